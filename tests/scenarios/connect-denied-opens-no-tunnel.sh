#!/bin/sh
# A denied CONNECT gets its 403 and nothing else: no connection to the
# origin is made, no "200 Connection established" follows, and the client
# connection is closed.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
hosts_entry 127.0.0.1 blocked.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny domain blocked.test
allow all
EOF

raw send "CONNECT blocked.test:$ECHO HTTP/1.1\r\nHost: blocked.test:$ECHO\r\n\r\nbytes a client sends at once" \
	expect '^HTTP/1\.1 403 [^\r]*\r\n(?:[^\r]+\r\n)*\r\n' \
	eof print
expect_no_match '200 Connection established|bytes a client sends' "$RAW_OUT" "what followed the 403"
expect_eq 0 "$(origin_count ECHO)" "connections the origin received"
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT blocked\.test:$ECHO - HIER_NONE/- "
no_log_line_matching "TCP_TUNNEL"
pinhole_stop
