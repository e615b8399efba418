#!/bin/sh
# Bytes a client sends right after the CONNECT head, in the same write and
# before the 200 arrives, are forwarded to the origin (nothing is lost).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
allow dst-local
allow all
EOF

raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\nearly bytes, no wait" \
	expect '^HTTP/1\.1 200 Connection established\r\n(?:[^\r]+\r\n)*\r\n' \
	expect '^early bytes, no wait$' \
	send ' + later' expect '^ \+ later$' \
	shut expect '^EOF after 28 bytes\n$' eof
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO - HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
