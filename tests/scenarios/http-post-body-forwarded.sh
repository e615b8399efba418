#!/bin/sh
# A POST with a Content-Length body reaches the origin complete and
# byte-exact, and the connection stays usable for the next request.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

head -c 100000 /dev/urandom >"$T/upload"
expect_status 200 -H 'Content-Type: application/octet-stream' \
	--data-binary "@$T/upload" "http://www.origin.test:$WEB/echo"
expect_eq 100000 "$(json_field "$BODY" body_length)" "body length the origin received"
expect_eq "\"$(sha256sum <"$T/upload" | cut -d' ' -f1)\"" "$(json_field "$BODY" body_sha256)" "sha256 of the body the origin received"

raw send "POST http://www.origin.test:$WEB/echo HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nContent-Length: 5\r\n\r\nhello" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n\{[^\n]*"body_length": 5,[^\n]*\}\n' \
	send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n'
pinhole_stop
