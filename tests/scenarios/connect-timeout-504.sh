#!/bin/sh
# With `timeout connect 1s`, an origin that never answers the TCP handshake
# (SYNs dropped) gives 504 "timed out" after about a second, for plain
# requests and CONNECT.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin HOLE blackhole
# The black hole must really swallow SYNs here, or this test proves nothing.
curl -q -s --connect-timeout 1 "http://127.0.0.1:$HOLE/" >/dev/null 2>&1
rc=$?
[ "$rc" = 28 ] || fail "the black hole on port $HOLE did not swallow a connection (curl exit $rc, expected 28)"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
timeout connect 1s
allow dst-local
allow all
EOF

start=$(date +%s)
expect_status 504 "http://127.0.0.1:$HOLE/hello"
expect_match_i 'timed out' "$BODY" "504 body"
expect_match '^Content-Type: text/plain' "$HEADERS" "504 headers"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 6 ] || fail "the 504 took ${elapsed}s with timeout connect 1s"
log_line_matching " [A-Z_]+/504 [0-9]+ GET http://127\.0\.0\.1:$HOLE/hello "

raw send "CONNECT 127.0.0.1:$HOLE HTTP/1.1\r\nHost: 127.0.0.1:$HOLE\r\n\r\n" \
	expect '^HTTP/1\.1 504 [^\r]*\r\n' \
	expect '\r\n\r\n.*(?i:timed out)'
log_line_matching " [A-Z_]+/504 [0-9]+ CONNECT 127\.0\.0\.1:$HOLE "
pinhole_stop
