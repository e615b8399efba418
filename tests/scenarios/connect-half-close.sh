#!/bin/sh
# A tunnel propagates half-close both ways: when the client shuts down its
# sending side the origin sees EOF, can still answer, and its close reaches
# the client as EOF after that answer.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
allow dst-local
allow all
EOF

raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 Connection established\r\n(?:[^\r]+\r\n)*\r\n' \
	send 'the first half' expect '^the first half$' \
	quiet 1 \
	shut \
	expect '^EOF after 14 bytes\n$' \
	eof
origin_saw ECHO 'eof after 14 bytes'
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO "
pinhole_stop
