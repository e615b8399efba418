#!/bin/sh
# A request in origin form (GET /path, as sent to a web server) gets a 400
# whose text/plain body explains this is a proxy; nothing is forwarded.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

raw send "GET /hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n' \
	expect '(?i)(^|\r\n)content-type: text/plain' \
	expect '\r\n\r\n.*(?i:proxy)'
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
log_line_matching " NONE_NONE/400 [0-9]+ GET "
pinhole_stop
