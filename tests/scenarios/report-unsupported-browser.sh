#!/bin/sh
# The CMS web app supports Chrome/Edge 88, Firefox 82, Safari 13 and later,
# not legacy Edge [CMS]: after one request each, /report.json lists
# unsupported-browser as "breaks" for legacy Edge 18 and Internet Explorer 11
# (no WebRTC without a plug-in [TOKBOX]) and as "degraded" for Chrome 79,
# each naming the browser and OS, with the advice to update the browser.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_EDGE18_WIN" "http://www.origin.test:$WEB/hello"
expect_status 200 --interface 127.0.0.3 -A "$UA_IE11_WIN" "http://www.origin.test:$WEB/hello"
expect_status 200 --interface 127.0.0.4 -A "$UA_CHROME79_WIN" "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.4 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

advice="update the browser (Chrome or Edge 88, Firefox 82, Safari 13 or later)"
report_finding 127.0.0.2 unsupported-browser
expect_eq breaks "$F_SEVERITY" "severity of unsupported-browser (legacy Edge)"
expect_eq breaks "$F_VERDICT" "verdict of legacy Edge"
expect_eq CMS "$F_SOURCE" "source of unsupported-browser (legacy Edge)"
expect_eq "User-Agent Edge 18 (EdgeHTML) on Windows: legacy Edge is not supported" "$F_EVIDENCE" \
	"evidence of unsupported-browser (legacy Edge)"
expect_eq "$advice" "$F_ADVICE" "advice of unsupported-browser (legacy Edge)"
expect_eq 1 "$F_COUNT" "count of unsupported-browser (one request)"

report_finding 127.0.0.3 unsupported-browser
expect_eq breaks "$F_SEVERITY" "severity of unsupported-browser (IE 11)"
expect_eq breaks "$F_VERDICT" "verdict of IE 11"
expect_eq "TOKBOX, CMS" "$F_SOURCE" "source of unsupported-browser (IE 11)"
expect_eq "User-Agent Internet Explorer 11 on Windows: Internet Explorer needs a plug-in and is not supported by CMS" \
	"$F_EVIDENCE" "evidence of unsupported-browser (IE 11)"

report_finding 127.0.0.4 unsupported-browser
expect_eq degraded "$F_SEVERITY" "severity of unsupported-browser (Chrome 79)"
expect_eq "User-Agent Chrome 79 on Windows: older than Chrome 88" "$F_EVIDENCE" \
	"evidence of unsupported-browser (Chrome 79)"
expect_eq "$advice" "$F_ADVICE" "advice of unsupported-browser (Chrome 79)"
pinhole_stop
