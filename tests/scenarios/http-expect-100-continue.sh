#!/bin/sh
# A POST with `Expect: 100-continue` gets its 100 Continue promptly through
# pinhole (curl does not have to wait out its timer) and the body arrives
# whole.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

# curl sends Expect: 100-continue by itself for bodies over 1 MiB; with an
# 8 s expect timer and a 6 s limit it only succeeds if a 100 comes back.
head -c 2000000 /dev/urandom >"$T/upload"
expect_status 200 --expect100-timeout 8 --max-time 6 -v \
	-H 'Content-Type: application/octet-stream' \
	--data-binary "@$T/upload" "http://www.origin.test:$WEB/echo"
expect_match '^< HTTP/1\.1 100 Continue' "$(tr -d '\r' <"$T/last.curlerr")" "curl's trace"
expect_eq 2000000 "$(json_field "$BODY" body_length)" "body length the origin received"
expect_eq "\"$(sha256sum <"$T/upload" | cut -d' ' -f1)\"" "$(json_field "$BODY" body_sha256)" "sha256 of the body"

# A small body with an explicit Expect header, over a raw connection.
raw send "POST http://www.origin.test:$WEB/echo HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n" \
	expect '^HTTP/1\.1 100 Continue\r\n(?:[^\r\n]*\r\n)*?\r\n' \
	send 'hello world' \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n\{[^\n]*"body_length": 11,'
pinhole_stop
