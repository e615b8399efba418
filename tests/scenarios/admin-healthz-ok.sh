#!/bin/sh
# With `admin ADDR:PORT`, GET /healthz on that address answers `200 ok` in
# text/plain (HEAD too, without a body) while the proxy runs.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
allow all
EOF
wait_admin

expect_admin 200 /healthz
expect_eq "ok" "$BODY" "/healthz body"
expect_match '^Content-Type: text/plain' "$HEADERS" "/healthz headers"
raw_to 127.0.0.1 "$ADMIN" send "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n.*?\r\n\r\n' eof reject '.'
pinhole_stop
