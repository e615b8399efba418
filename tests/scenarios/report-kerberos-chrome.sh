#!/bin/sh
# Chrome authenticating to the proxy with Negotiate (Kerberos) is the forward
# proxy Kerberos case found not to work [TOKBOX]: once alice's Chrome has
# opened CONNECT api.opentok.com with a Kerberos ticket, /report.json lists
# alice with kerberos-chrome, "breaks", and says to offer NTLM or Basic or
# to exempt the TokBox domains; on a host of no vendor it is "degraded"; a
# Firefox client doing the same has no such finding.
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

start_origin WEB http
start_tls_origin TLS api.opentok.com
hosts_entry 127.0.0.1 api.opentok.com www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab
allow all
EOF
wait_admin

# The proxy given by its host name, as Chromium needs it for Kerberos.
by_name=(--proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT"
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1")
expect_status 200 "${by_name[@]}" --interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem" \
	"https://api.opentok.com:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the Negotiate-authenticated tunnel"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:$TLS alice@TEST\.PINHOLE "

report_finding 127.0.0.2 kerberos-chrome alice@TEST.PINHOLE
expect_eq breaks "$F_SEVERITY" "severity of kerberos-chrome on a TokBox host"
expect_eq breaks "$F_VERDICT" "verdict of alice's Chrome"
expect_eq tokbox "$F_VENDORS" "vendors of kerberos-chrome"
expect_eq TOKBOX "$F_SOURCE" "source of kerberos-chrome"
expect_eq 1 "$F_COUNT" "count of kerberos-chrome"
expect_match "^Chrome 131 authenticated with Negotiate on CONNECT api\.opentok\.com:$TLS at $HMS\$" \
	"$F_EVIDENCE" "evidence of kerberos-chrome"
expect_eq "offer NTLM or Basic as well (auth ntlm users FILE), or noauth domain .tokbox.com .opentok.com .inevent.com .inevent.us .inevent.uk inevent-virtual-lobby.firebaseapp.com" \
	"$F_ADVICE" "advice of kerberos-chrome"
report_client 127.0.0.2 alice@TEST.PINHOLE
expect_eq "Chrome 131" "$C_BROWSER" "browser of alice's Chrome"

# Elsewhere it is a risk for this client's calls, not a broken one.
expect_status 200 "${by_name[@]}" --interface 127.0.0.4 -A "$UA_CHROME_WIN" "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.4 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice@TEST\.PINHOLE "
report_finding 127.0.0.4 kerberos-chrome alice@TEST.PINHOLE
expect_eq degraded "$F_SEVERITY" "severity of kerberos-chrome on a host of no vendor"
expect_eq degraded "$F_VERDICT" "verdict of the second Chrome"
expect_match "^Chrome 131 authenticated with Negotiate on GET www\.origin\.test:$WEB at $HMS\$" \
	"$F_EVIDENCE" "evidence of kerberos-chrome on a plain GET"

# Firefox: not the Chromium case.
expect_status 200 "${by_name[@]}" --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" --cacert "$T/ca.pem" \
	"https://api.opentok.com:$TLS/hello"
log_line_matching " 127\.0\.0\.3 TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:$TLS alice@TEST\.PINHOLE "
report_no_finding 127.0.0.3 kerberos-chrome alice@TEST.PINHOLE
report_client 127.0.0.3 alice@TEST.PINHOLE
expect_eq ok "$C_VERDICT" "verdict of alice's Firefox (findings: $C_RULES)"
pinhole_stop
