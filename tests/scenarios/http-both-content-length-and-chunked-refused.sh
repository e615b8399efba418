#!/bin/sh
# A request with both Content-Length and Transfer-Encoding: chunked is
# ambiguous (request smuggling): 400 naming Content-Length, the connection
# is closed and nothing reaches the origin.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

raw send "POST http://www.origin.test:$WEB/echo HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n' \
	expect '\r\n\r\n.*(?i:content-length)' \
	eof
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
log_line_matching "/400 [0-9]+ POST "
pinhole_stop
