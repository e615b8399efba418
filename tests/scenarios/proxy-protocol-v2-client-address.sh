#!/bin/sh
# A binary PROXY v2 header's source address (IPv4 or IPv6) is the client
# address in the access log.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

raw proxy-v2 198.51.100.7 127.0.0.1 5555 80 \
	send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n'
log_line_matching " 198\.51\.100\.7 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

raw proxy-v2 2001:db8::7 ::1 5555 80 \
	send "GET http://www.origin.test:$WEB/conn HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nconn-'
log_line_matching " 2001:db8::7 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn "
pinhole_stop
