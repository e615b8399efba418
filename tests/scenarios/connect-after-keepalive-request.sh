#!/bin/sh
# A client that sends a plain request and then a CONNECT on the same
# connection: the origin connection kept from the request goes back to the
# pool when the tunnel opens, so the next request reuses it.  It used to
# stay open and watched after the client left, and when the origin closed
# it later, pinhole read freed memory and died.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
WEB_PID=$SPAWNED_PID
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
workers 1
allow dst-local
allow all
EOF

raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n' \
	send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 Connection established\r\n\r\n' \
	send 'ping' expect '^ping$' shut expect '^EOF after 4 bytes\n$' eof
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO "
expect_status 200 "http://www.origin.test:$WEB/hello?again"
origin_saw WEB '^conn-1 GET /hello\?again$'

# The origin goes away, closing what pinhole holds of it: pinhole carries on.
stop "$WEB_PID"
sleep 0.5
expect_status 502 "http://www.origin.test:$WEB/hello"
pinhole_stop
