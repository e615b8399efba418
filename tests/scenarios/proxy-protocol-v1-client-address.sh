#!/bin/sh
# Behind a load balancer speaking PROXY v1, the client address in the access
# log is the one from the PROXY header, not the balancer's, for requests and
# CONNECT tunnels.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow dst-local
allow all
EOF

raw send "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\nGET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n'
log_line_matching " 203\.0\.113\.9 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

raw send "PROXY TCP6 2001:db8::9 ::1 5555 80\r\nGET http://www.origin.test:$WEB/conn HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nconn-'
log_line_matching " 2001:db8::9 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn "

raw send "PROXY TCP4 203.0.113.10 127.0.0.1 5555 80\r\nCONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' send 'tunnel' expect '^tunnel$' \
	shut expect '^EOF after 6 bytes\n$' eof
log_line_matching " 203\.0\.113\.10 TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO "
pinhole_stop
