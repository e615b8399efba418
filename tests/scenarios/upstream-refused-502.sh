#!/bin/sh
# When the origin refuses the connection (nothing listens on the port), the
# client gets 502 saying "refused", for plain requests and CONNECT.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

CLOSED=$(free_port)
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
allow dst-local
allow all
EOF

expect_status 502 "http://127.0.0.1:$CLOSED/hello"
expect_match_i 'refused' "$BODY" "502 body"
expect_match '^Content-Type: text/plain' "$HEADERS" "502 headers"
log_line_matching " [A-Z_]+/502 [0-9]+ GET http://127\.0\.0\.1:$CLOSED/hello "

raw send "CONNECT 127.0.0.1:$CLOSED HTTP/1.1\r\nHost: 127.0.0.1:$CLOSED\r\n\r\n" \
	expect '^HTTP/1\.1 502 [^\r]*\r\n' \
	expect '\r\n\r\n.*(?i:refused)'
log_line_matching " [A-Z_]+/502 [0-9]+ CONNECT 127\.0\.0\.1:$CLOSED "
pinhole_stop
