#!/bin/sh
# With `quirk http10-connect`, pinhole answers CONNECT with
# "HTTP/1.0 200 Connection established" (like old proxies), and the tunnel
# works.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
quirk http10-connect
allow dst-local
allow all
EOF

raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.0 200 Connection established\r\n(?:[^\r]+\r\n)*\r\n' \
	send 'ping' expect '^ping$' \
	shut expect '^EOF after 4 bytes\n$' eof
pinhole_stop
