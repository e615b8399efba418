#!/bin/sh
# Without `quirk no-websocket`, a Chrome client's WebSocket Upgrade to
# x.webex.com gets its 101 and the frames flow: /report.json has no
# websocket-blocked finding for it ("ok").
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_origin WEB http
hosts_entry 127.0.0.1 x.webex.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

raw send "GET http://x.webex.com:$WEB/ws HTTP/1.1\r\nHost: x.webex.com:$WEB\r\nUser-Agent: $UA_CHROME_WIN\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
	expect '^HTTP/1\.1 101 ' expect '(?i)sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=' \
	expect '\r\n\r\n' ws-text "hello" expect 'hello' shut eof
log_line_matching " 127\.0\.0\.1 [A-Z_]+/101 [0-9]+ GET http://x\.webex\.com:$WEB/ws "
report_no_finding 127.0.0.1 websocket-blocked
report_client 127.0.0.1
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
pinhole_stop
