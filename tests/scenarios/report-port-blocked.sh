#!/bin/sh
# Denying a vendor's media or TURN port breaks its calls [SPARK] [CMS]: after
# a CONNECT to a Webex media address on 33434 denied by no rule, /report.json
# lists port-blocked, "breaks", with `allow port 33434-33598` as the fix; the
# legacy Webex range (8000-8100) denied is "degraded"; a CONNECT to the
# Expressway-E of `preset cms` on 3478 denied by a deny rule names that rule
# and says to allow that host on 3478.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
deny port 3478
preset cms expressway.cms.test
allow port 443
EOF
wait_admin

# Webex media servers sit in dynamic address ranges: the CONNECT names an IP.
expect_status 403 --interface 127.0.0.2 -A "$UA_CHROME_WIN" -p "http://127.0.0.9:33434/"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/403 [0-9]+ CONNECT 127\.0\.0\.9:33434 "
report_finding 127.0.0.2 port-blocked
expect_eq breaks "$F_SEVERITY" "severity of port-blocked (Webex media)"
expect_eq breaks "$F_VERDICT" "verdict of the Chrome client"
expect_eq webex "$F_VENDORS" "vendors of port-blocked (Webex media)"
expect_eq SPARK "$F_SOURCE" "source of port-blocked (Webex media)"
expect_match "^403 on CONNECT 127\.0\.0\.9:33434 at $HMS, webex media and screen sharing over TCP \(no rule allowed it\)\$" \
	"$F_EVIDENCE" "evidence of port-blocked (Webex media)"
expect_eq "allow port 33434-33598" "$F_ADVICE" "advice of port-blocked (Webex media)"
expect_config_line "$F_ADVICE"

expect_status 403 --interface 127.0.0.3 -A "$UA_WEBEX_WIN" -p "http://media.webex.com:8000/"
log_line_matching " 127\.0\.0\.3 TCP_DENIED/403 [0-9]+ CONNECT media\.webex\.com:8000 "
report_finding 127.0.0.3 port-blocked
expect_eq degraded "$F_SEVERITY" "severity of port-blocked (legacy range)"
expect_eq degraded "$F_VERDICT" "verdict of the Webex app"
expect_match "^403 on CONNECT media\.webex\.com:8000 at $HMS, webex legacy media range \(no rule allowed it\)\$" \
	"$F_EVIDENCE" "evidence of port-blocked (legacy range)"
expect_eq "allow port 8000-8100" "$F_ADVICE" "advice of port-blocked (legacy range)"

expect_status 403 --interface 127.0.0.4 -A "$UA_FIREFOX_LINUX" -p "http://expressway.cms.test:3478/"
log_line_matching " 127\.0\.0\.4 TCP_DENIED/403 [0-9]+ CONNECT expressway\.cms\.test:3478 "
report_finding 127.0.0.4 port-blocked
expect_eq breaks "$F_SEVERITY" "severity of port-blocked (CMS TURN)"
expect_eq cms "$F_VENDORS" "vendors of port-blocked (CMS TURN)"
expect_eq CMS "$F_SOURCE" "source of port-blocked (CMS TURN)"
expect_match "^403 on CONNECT expressway\.cms\.test:3478 at $HMS, cms TURN over TCP \(denied by [^ ]*pinhole\.conf:4\)\$" \
	"$F_EVIDENCE" "evidence of port-blocked (CMS TURN)"
expect_eq "allow domain expressway.cms.test port 3478" "$F_ADVICE" "advice of port-blocked (CMS TURN)"
expect_config_line "$F_ADVICE"
pinhole_stop
