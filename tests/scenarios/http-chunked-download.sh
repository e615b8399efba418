#!/bin/sh
# A chunked response from the origin reaches the client complete and
# byte-exact.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

{
	printf 'first chunk\nsecond, a little longer chunk\n'
	printf 'x%.0s' $(seq 1000)
	printf '\nlast chunk\n'
} >"$T/expected"
expect_status 200 "http://www.origin.test:$WEB/chunked"
expect_eq "$(sha256sum <"$T/expected")" "$(sha256sum <"$T/last.body")" "sha256 of the body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/chunked "

# Two chunked responses in a row on one connection: the framing is kept.
raw send "GET http://www.origin.test:$WEB/chunked HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '\nlast chunk\n' \
	send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^(\r\n0\r\n\r\n)?HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n'
pinhole_stop
