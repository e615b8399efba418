#!/bin/sh
# Requests pipelined on one client connection (sent in one write, before any
# answer) are all answered, in order.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

u=http://www.origin.test:$WEB
h="Host: www.origin.test:$WEB\r\n"
raw send "GET $u/hello HTTP/1.1\r\n$h\r\nGET $u/status/404 HTTP/1.1\r\n$h\r\nGET $u/conn HTTP/1.1\r\n${h}Connection: close\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n' \
	expect '^HTTP/1\.1 404 .*?\r\n\r\nstatus 404\n' \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nconn-[0-9]+\n' \
	eof
pinhole_stop
