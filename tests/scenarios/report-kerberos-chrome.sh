#!/bin/sh
# kerberos-chrome is reported on evidence that Negotiate failed, never for a
# browser that authenticated with it [MEASURED]: Chromium answers Negotiate
# only when it was given the proxy by a host name whose HTTP/ principal the
# keytab has.  alice's Chrome given the proxy by name, with a ticket, opens
# CONNECT api.opentok.com through a 407 answered with Negotiate: no finding
# (the call would connect).  Given the proxy by address it can get no
# ticket (the KDC has no HTTP/127.0.0.1) and never answers the 407: 5 s
# later /report.json lists kerberos-chrome, "breaks", source MEASURED, the
# 407 and the scheme offered as evidence, and a noauth line for the TokBox
# domains as the fix (one finding: no auth-required besides).  Firefox
# doing the same is no kerberos-chrome.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_LIB/kdc.sh"

kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
kdc_add_user alice alice-secret || fail "cannot add alice to the test KDC"
kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab" || fail "cannot export the proxy's keytab"
kdc_kinit alice alice-secret || fail "kinit alice failed"

start_tls_origin TLS api.opentok.com
hosts_entry 127.0.0.1 api.opentok.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab
allow all
EOF
wait_admin

# By name, with a ticket: the 407, then the CONNECT again with Negotiate
# (curl sends it at once; Chromium after the 407), then the tunnel.
t0=$(date +%s)
expect_status 407 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "https://api.opentok.com:$TLS/hello"
by_name=(--proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT"
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1")
expect_status 200 "${by_name[@]}" --interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem" \
	"https://api.opentok.com:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the Negotiate-authenticated tunnel"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT api\.opentok\.com:$TLS - "
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:$TLS alice@TEST\.PINHOLE "

# By address: no ticket for HTTP/127.0.0.1, the 407 stays unanswered.
for c in 127.0.0.3 127.0.0.4; do
	ua=$UA_CHROME_WIN
	[ $c = 127.0.0.4 ] && ua=$UA_FIREFOX_LINUX
	expect_status 407 --proxy-negotiate -U : --interface $c -A "$ua" --cacert "$T/ca.pem" \
		"https://api.opentok.com:$TLS/hello"
	log_line_matching " ${c//./\\.} TCP_DENIED/407 [0-9]+ CONNECT api\.opentok\.com:$TLS - "
done
no_log_line_matching " 127\.0\.0\.3 TCP_TUNNEL/"

REPORT_WAIT=10 report_finding 127.0.0.3 kerberos-chrome
expect_eq breaks "$F_SEVERITY" "severity of kerberos-chrome"
expect_eq breaks "$F_VERDICT" "verdict of the Chrome given the proxy by address"
expect_eq MEASURED "$F_SOURCE" "source of kerberos-chrome"
expect_eq tokbox "$F_VENDORS" "vendors of kerberos-chrome"
expect_match "^407 on CONNECT api\.opentok\.com:$TLS at $HMS offering Negotiate to Chrome 131, never answered within 5 s \(Chromium answers Negotiate only when given the proxy by a host name that resolves\)\$" \
	"$F_EVIDENCE" "evidence of kerberos-chrome"
expect_eq "noauth domain .tokbox.com .opentok.com" "$F_ADVICE" "advice of kerberos-chrome"
expect_config_line "$F_ADVICE"
report_no_finding 127.0.0.3 auth-required

# The Chrome that authenticated, and Firefox: no kerberos-chrome.
while [ "$(date +%s)" -lt $((t0 + 7)) ]; do
	sleep 0.2
done
report_no_finding 127.0.0.2 kerberos-chrome ""
report_no_finding 127.0.0.2 kerberos-chrome alice@TEST.PINHOLE
report_client 127.0.0.2 alice@TEST.PINHOLE
expect_eq ok "$C_VERDICT" "verdict of alice's Chrome (findings: $C_RULES)"
report_client 127.0.0.2 ""
expect_eq ok "$C_VERDICT" "verdict of the Chrome before it authenticated (findings: $C_RULES)"
report_no_finding 127.0.0.4 kerberos-chrome
pinhole_stop
