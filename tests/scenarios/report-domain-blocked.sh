#!/bin/sh
# Denying a vendor's domain on the port it needs breaks its calls [SPARK]
# [TOKBOX]: after a CONNECT to x.webex.com:443 denied by no rule, a CONNECT
# to api.opentok.com:443 denied by a deny rule and a GET of an InEvent page
# denied, /report.json lists domain-blocked, "breaks", for each client, with
# the request and what denied it (the rule's FILE:LINE) as evidence and the
# allow line covering the vendor's domains and ports as the fix.
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
deny domain .opentok.com
allow domain www.origin.test
EOF
wait_admin

expect_status 403 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "https://x.webex.com/"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/403 [0-9]+ CONNECT x\.webex\.com:443 "
report_finding 127.0.0.2 domain-blocked
expect_eq breaks "$F_SEVERITY" "severity of domain-blocked (Webex)"
expect_eq breaks "$F_VERDICT" "verdict of the Chrome client"
expect_eq webex "$F_VENDORS" "vendors of domain-blocked (Webex)"
expect_eq SPARK "$F_SOURCE" "source of domain-blocked (Webex)"
expect_match "^403 on CONNECT x\.webex\.com:443 at $HMS \(no rule allowed it\)\$" "$F_EVIDENCE" \
	"evidence of domain-blocked (Webex)"
expect_eq "allow domain .webex.com .wbx2.com .ciscospark.com .localytics.com .rackcdn.com .clouddrive.com port 443" \
	"$F_ADVICE" "advice of domain-blocked (Webex)"
expect_config_line "$F_ADVICE"

expect_status 403 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" "https://api.opentok.com/"
log_line_matching " 127\.0\.0\.3 TCP_DENIED/403 [0-9]+ CONNECT api\.opentok\.com:443 "
report_finding 127.0.0.3 domain-blocked
expect_eq breaks "$F_SEVERITY" "severity of domain-blocked (TokBox)"
expect_eq tokbox "$F_VENDORS" "vendors of domain-blocked (TokBox)"
expect_eq TOKBOX "$F_SOURCE" "source of domain-blocked (TokBox)"
expect_match "^403 on CONNECT api\.opentok\.com:443 at $HMS \(denied by [^ ]*pinhole\.conf:5\)\$" "$F_EVIDENCE" \
	"evidence of domain-blocked (TokBox)"
expect_eq "allow domain .tokbox.com .opentok.com port 443" "$F_ADVICE" "advice of domain-blocked (TokBox)"
expect_config_line "$F_ADVICE"

# InEvent pages are needed on 80 and 443 [TOKBOX].
expect_status 403 --interface 127.0.0.4 -A "$UA_SAFARI_IPHONE" "http://www.inevent.com/lobby"
log_line_matching " 127\.0\.0\.4 TCP_DENIED/403 [0-9]+ GET http://www\.inevent\.com/lobby "
report_finding 127.0.0.4 domain-blocked
expect_eq breaks "$F_SEVERITY" "severity of domain-blocked (InEvent)"
expect_match "^403 on GET www\.inevent\.com:80 at $HMS \(no rule allowed it\)\$" "$F_EVIDENCE" \
	"evidence of domain-blocked (InEvent)"
expect_eq "allow domain .inevent.com .inevent.us .inevent.uk port 80 443" "$F_ADVICE" "advice of domain-blocked (InEvent)"
expect_config_line "$F_ADVICE"
pinhole_stop
