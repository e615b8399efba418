#!/bin/sh
# `port N` and `port N-M` match the destination port, for GET and CONNECT;
# other ports fall through to the next rule.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
start_origin OTHER http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test
# The range below holds ECHO's port and must not hold OTHER's.
lo=$((ECHO - 2))
hi=$((ECHO + 2))
[ "$OTHER" -lt "$lo" ] || [ "$OTHER" -gt "$hi" ] || start_origin OTHER http
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow port $WEB
allow method CONNECT port $lo-$hi
deny all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 403 "http://www.origin.test:$OTHER/hello"
expect_status 403 -p "http://www.origin.test:$OTHER/hello"
raw send "CONNECT www.origin.test:$ECHO HTTP/1.1\r\nHost: www.origin.test:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' send 'in range' expect '^in range$'
log_line_matching " TCP_DENIED/403 [0-9]+ GET http://www\.origin\.test:$OTHER/hello "
pinhole_stop
