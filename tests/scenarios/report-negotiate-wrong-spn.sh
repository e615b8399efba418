#!/bin/sh
# A browser given the proxy by its address asks the KDC for HTTP/<address>,
# which the keytab lacks [MEASURED]: after alice's Chrome sends such a ticket
# (407), /report.json lists negotiate-wrong-spn, "breaks", naming the
# service principal and saying to configure browsers with the proxy's host
# name; the same client given the proxy by name gets through and has no
# such finding.
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
# In the KDC but not in the keytab, so the client gets a ticket for it.
kdc_add_service HTTP/127.0.0.1 || fail "cannot add HTTP/127.0.0.1 to the test KDC"
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

# By address: curl -x http://127.0.0.1:PORT, as Chromium given an IP.
expect_status 407 --proxy-negotiate -U : --interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem" \
	"https://api.opentok.com:$TLS/hello"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT api\.opentok\.com:$TLS - "
report_finding 127.0.0.2 negotiate-wrong-spn
expect_eq breaks "$F_SEVERITY" "severity of negotiate-wrong-spn"
expect_eq breaks "$F_VERDICT" "verdict of the client given the proxy by address"
expect_eq MEASURED "$F_SOURCE" "source of negotiate-wrong-spn"
expect_match "^Negotiate ticket for HTTP/127\.0\.0\.1@TEST\.PINHOLE, which the keytab lacks, at $HMS\$" \
	"$F_EVIDENCE" "evidence of negotiate-wrong-spn"
expect_eq "configure browsers with the proxy's host name, not 127.0.0.1, so they ask for HTTP/<name>; or add HTTP/127.0.0.1@TEST.PINHOLE to the keytab" \
	"$F_ADVICE" "advice of negotiate-wrong-spn"

# By name: the ticket is for HTTP/proxy.pinhole.test, which the keytab has.
expect_status 200 --proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT" \
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1" --interface 127.0.0.3 -A "$UA_CHROME_WIN" \
	--cacert "$T/ca.pem" "https://api.opentok.com:$TLS/hello"
log_line_matching " 127\.0\.0\.3 TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:$TLS alice@TEST\.PINHOLE "
report_no_finding 127.0.0.3 negotiate-wrong-spn alice@TEST.PINHOLE
pinhole_stop
