#!/bin/sh
# Answers to HEAD, and 204 and 304 answers, carry no body even when they
# announce a length: the next answer on the same connection starts right
# after their headers.
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
raw send "HEAD $u/hello HTTP/1.1\r\n$h\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n(?:[^\r]+\r\n)*?Content-Length: 22\r\n(?:[^\r]+\r\n)*\r\n' \
	send "GET $u/status/204 HTTP/1.1\r\n$h\r\n" \
	expect '^HTTP/1\.1 204 .*?\r\n\r\n' \
	send "GET $u/status/304 HTTP/1.1\r\n$h\r\n" \
	expect '^HTTP/1\.1 304 .*?\r\n\r\n' \
	send "HEAD $u/chunked HTTP/1.1\r\n$h\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	send "GET $u/hello HTTP/1.1\r\n$h\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n' \
	quiet 0.5
log_line_matching " TCP_MISS/204 [0-9]+ GET $u/status/204 "
log_line_matching " TCP_MISS/304 [0-9]+ GET $u/status/304 "
log_line_matching " TCP_MISS/200 [0-9]+ HEAD $u/hello "
pinhole_stop
