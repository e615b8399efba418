#!/bin/sh
# The certificate status hosts ocsp.godaddy.com and crl.godaddy.com should be
# reachable for TokBox (console warnings otherwise) [TOKBOX]: a denied OCSP
# request and an unreachable CRL one make /report.json list ocsp-blocked,
# "degraded", with the request (and the rule that denied it) as evidence and
# an allow line for both hosts as the fix.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

DEAD=$(free_port) # nothing listens there
hosts_entry 127.0.0.1 crl.godaddy.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
deny domain ocsp.godaddy.com
allow all
EOF
wait_admin

expect_status 403 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "http://ocsp.godaddy.com/MEIwQDA"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/403 [0-9]+ GET http://ocsp\.godaddy\.com/MEIwQDA "
report_finding 127.0.0.2 ocsp-blocked
expect_eq degraded "$F_SEVERITY" "severity of ocsp-blocked"
expect_eq degraded "$F_VERDICT" "verdict of the Chrome client"
expect_eq tokbox "$F_VENDORS" "vendors of ocsp-blocked"
expect_eq TOKBOX "$F_SOURCE" "source of ocsp-blocked"
expect_match "^403 on GET ocsp\.godaddy\.com:80 at $HMS \(denied by [^ ]*pinhole\.conf:5\)\$" "$F_EVIDENCE" \
	"evidence of ocsp-blocked"
expect_eq "allow domain ocsp.godaddy.com crl.godaddy.com port 80 443" "$F_ADVICE" "advice of ocsp-blocked"
expect_config_line "$F_ADVICE"

expect_status 502 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" "http://crl.godaddy.com:$DEAD/gdroot.crl"
log_line_matching " 127\.0\.0\.3 [A-Z_]+/502 [0-9]+ GET http://crl\.godaddy\.com:$DEAD/gdroot\.crl "
report_finding 127.0.0.3 ocsp-blocked
expect_eq degraded "$F_SEVERITY" "severity of ocsp-blocked (unreachable)"
expect_match "^502 on GET crl\.godaddy\.com:$DEAD at $HMS\$" "$F_EVIDENCE" "evidence of ocsp-blocked (unreachable)"
pinhole_stop
