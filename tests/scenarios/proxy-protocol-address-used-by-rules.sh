#!/bin/sh
# `src` rules judge the client address from the PROXY header: a client the
# header places in a denied network gets 403 although the connection comes
# from loopback.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
deny src 203.0.113.0/24
allow all
EOF

get="GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n"
raw send "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n$get" \
	expect '^HTTP/1\.1 403 .*?\r\n\r\n.*pinhole\.conf:4'
raw send "PROXY TCP4 192.0.2.1 127.0.0.1 5555 80\r\n$get" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n'
log_line_matching " 203\.0\.113\.9 TCP_DENIED/403 "
log_line_matching " 192\.0\.2\.1 TCP_MISS/200 "
pinhole_stop
