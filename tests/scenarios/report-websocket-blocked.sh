#!/bin/sh
# Webex notifications and the CMS web bridge need WebSocket [SPARK] [CMS]:
# with `quirk no-websocket`, a Chrome client's Upgrade to x.webex.com is
# refused (no 101) and /report.json lists websocket-blocked, "breaks", with
# the target as evidence and `remove quirk no-websocket` as the fix; the
# same to the Expressway-E of `preset cms` cites CMS.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

start_origin WEB http
hosts_entry 127.0.0.1 x.webex.com join.cms.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
quirk no-websocket
preset cms join.cms.test
allow all
EOF
wait_admin

upgrade() {
	raw send "GET http://$1:$WEB/ws HTTP/1.1\r\nHost: $1:$WEB\r\nUser-Agent: $UA_CHROME_WIN\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
		expect '^HTTP/1\.1 (?!101)[1-5][0-9][0-9] ' \
		reject '(?i)sec-websocket-accept'
}
upgrade x.webex.com
log_line_matching " 127\.0\.0\.1 [A-Z_]+/[0-9]+ [0-9]+ GET http://x\.webex\.com:$WEB/ws "
no_log_line_matching '/101 '
report_finding 127.0.0.1 websocket-blocked
expect_eq breaks "$F_SEVERITY" "severity of websocket-blocked"
expect_eq breaks "$F_VERDICT" "verdict of the Chrome client"
expect_eq webex "$F_VENDORS" "vendors of websocket-blocked (Webex)"
expect_eq SPARK "$F_SOURCE" "source of websocket-blocked (Webex)"
expect_match "^WebSocket Upgrade to x\.webex\.com:$WEB refused at $HMS\$" "$F_EVIDENCE" "evidence of websocket-blocked"
expect_eq "remove quirk no-websocket" "$F_ADVICE" "advice of websocket-blocked"

upgrade join.cms.test
log_line_matching " 127\.0\.0\.1 [A-Z_]+/[0-9]+ [0-9]+ GET http://join\.cms\.test:$WEB/ws "
report_finding 127.0.0.1 websocket-blocked
expect_eq 2 "$F_COUNT" "count of websocket-blocked"
expect_eq CMS "$F_SOURCE" "source of websocket-blocked (CMS, the newest)"
pinhole_stop
