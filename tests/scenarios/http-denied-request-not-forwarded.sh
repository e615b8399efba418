#!/bin/sh
# A denied plain request gets its 403 and nothing else: the origin never
# sees it, and no origin answer follows the 403 on the client connection.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 blocked.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny domain blocked.test
allow all
EOF

raw send "GET http://blocked.test:$WEB/hello HTTP/1.1\r\nHost: blocked.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 403 [^\r]*\r\n(?:[^\r]+\r\n)*\r\n' \
	sleep 0.5 print
expect_no_match 'HTTP/1\.1 200|hello from the origin' "$RAW_OUT" "what followed the 403"
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
log_line_matching " TCP_DENIED/403 [0-9]+ GET http://blocked\.test:$WEB/hello - HIER_NONE/- "
no_log_line_matching "TCP_MISS"
pinhole_stop
