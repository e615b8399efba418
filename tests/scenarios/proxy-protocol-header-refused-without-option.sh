#!/bin/sh
# A listener without `proxy-protocol` does not trust PROXY headers: a
# connection starting with one gets 400 and is closed, and the claimed
# address never reaches the log.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

raw send "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\nGET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 400 ' eof
raw proxy-v2 198.51.100.7 127.0.0.1 5555 80 \
	send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 400 ' eof
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
no_log_line_matching '203\.0\.113\.9|198\.51\.100\.7'
pinhole_stop
