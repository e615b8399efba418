#!/bin/sh
# TLS inspection with pinhole's CA trusted in the browser (an NSS database
# made with certutil: HOME/.pki/nssdb for Chromium, the profile's cert9.db
# for Firefox).  An inspected https:// page loads and the access log shows
# its https:// URL inside a tls-inspected tunnel; a wss:// WebSocket from
# that page echoes through the same kind of tunnel; a no-inspect domain is
# spliced and reaches the browser with the origin's own certificate: a
# browser that trusts only pinhole's CA refuses it (unknown issuer) while
# the inspected page still loads.  A call from the inspected page (TURN over
# TCP through CONNECT) connects: its tunnels start with STUN, not a
# ClientHello, so they are never inspected.  A browser that does not trust
# pinhole's CA refuses the minted certificate and the report says
# pinning-failure-observed; browsers that trust it never cause that finding.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

make_pinhole_ca
start_tls_origin TLS www.secure.test www.pinned.test
start_coturn TURN turnuser turnpass
hosts_entry 127.0.0.1 www.secure.test www.pinned.test turn.pinhole.test
pca_cn=$(openssl x509 -noout -subject -nameopt multiline -in "$PCA_CRT" | sed -n 's/^ *commonName *= *//p')
test_cn="pinhole test CA $SCENARIO"
for B in $(browsers); do
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
no-inspect www.pinned.test
turn-server turn.pinhole.test:$TURN
allow all
EOF
	wait_admin
	# Trusting both CAs: both pages load, and the WebSocket echoes.
	browser_profile "$B" "$PCA_CRT" "$T/ca.pem"
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" \
		"page=https://www.secure.test:$TLS/hello?inspected" "ws=wss://www.secure.test:$TLS/ws" \
		"page=https://www.pinned.test:$TLS/hello?spliced" \
		"page=https://www.secure.test:$TLS/hello?call" "$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	record 4 what=webrtc scheme=none inspection=on
	record 0 what=page scheme=none inspection=on url=https
	record 1 what=websocket scheme=none inspection=on url=wss
	record 2 what=page scheme=none inspection=no-inspect url=https
	expect_step_ok 0 "the inspected https:// page"
	expect_eq "hello from the origin" "$(dv steps.0.text | tr -d '\n')" "the inspected page's text in $B"
	log_line_matching " TCP_MISS/200 [0-9]+ GET https://www\.secure\.test:$TLS/hello\?inspected - "
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS - HIER_DIRECT/127\.0\.0\.1 tls-inspected$"
	expect_step_ok 1 "the wss:// WebSocket from the inspected page"
	log_line_matching " GET https://www\.secure\.test:$TLS/ws - "
	expect_step_ok 2 "the no-inspect https:// page"
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.pinned\.test:$TLS - HIER_DIRECT/127\.0\.0\.1 tls-spliced-no-inspect$"
	no_log_line_matching " https://www\.pinned\.test"
	expect_relay_tcp 4
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN - HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
	no_log_line_matching "CONNECT turn\.pinhole\.test:$TURN .*tls-inspected"
	sleep 0.5
	report_no_finding 127.0.0.1 pinning-failure-observed ""
	record_report scheme=none inspection=on
	if [ -n "$(dv steps.0.certificate.issuer)" ]; then
		expect_eq "$pca_cn" "$(dv steps.0.certificate.issuer)" "issuer of the inspected page's certificate in $B"
		expect_eq "$test_cn" "$(dv steps.2.certificate.issuer)" "issuer of the no-inspect page's certificate in $B"
	fi
	# Trusting pinhole's CA only: the spliced page shows the origin's
	# certificate, which this browser does not trust.
	browser_profile "$B" "$PCA_CRT"
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" --timeout 15 \
		"page=https://www.secure.test:$TLS/hello?inspected-only-pinhole-ca" \
		"page=https://www.pinned.test:$TLS/hello?spliced-only-pinhole-ca"
	record 1 what=page scheme=none inspection=no-inspect url=https credentials="pinhole CA only"
	expect_step_ok 0 "the inspected page with only pinhole's CA trusted"
	expect_step_fails 1 "the no-inspect page with only pinhole's CA trusted"
	# Chromium names the error; Firefox's certificate error page reaches
	# WebDriver BiDi as a generic navigation failure.
	expect_match 'CERT_AUTHORITY_INVALID|UNKNOWN_ISSUER|NS_ERROR_GENERATE_FAILURE' "$(dv steps.1.error)" \
		"what $B says of the origin's certificate"
	report_no_finding 127.0.0.1 pinning-failure-observed ""
	# Trusting the origins' CA only: the minted certificate is refused.
	browser_profile "$B" "$T/ca.pem"
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" --timeout 15 \
		"page=https://www.secure.test:$TLS/hello?inspected-untrusted-ca"
	record 0 what=page scheme=none inspection=on url=https credentials="pinhole CA not trusted"
	expect_step_fails 0 "the inspected page with pinhole's CA not trusted"
	expect_match 'CERT_AUTHORITY_INVALID|UNKNOWN_ISSUER|NS_ERROR_GENERATE_FAILURE' "$(dv steps.0.error)" \
		"what $B says of the minted certificate"
	report_finding 127.0.0.1 pinning-failure-observed ""
	expect_eq breaks "$F_SEVERITY" "severity of pinning-failure-observed for $B"
	expect_match "refused the minted certificate for www\.secure\.test" "$F_EVIDENCE" \
		"evidence of pinning-failure-observed for $B"
	pinhole_stop
done
