#!/bin/sh
# A proxy that offers only Negotiate (Kerberos) leaves the Webex app, which
# has no Kerberos [SPARK], and Internet Explorer, which copes only with Basic
# and NTLM [TOKBOX], without a usable scheme: after their CONNECTs get 407,
# /report.json lists auth-scheme-unsupported, "breaks", for both, naming the
# scheme offered and the client, with the directive that adds NTLM (which
# both speak).  With that line added (a users file for FILE) and a reload,
# the findings are gone, and the Webex app authenticates with NTLM.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

command -v ktutil >/dev/null || skip "needs ktutil (apt-get install krb5-user)"
# A keytab of the proxy's own; no KDC is needed to send a challenge.
printf 'addent -password -p HTTP/proxy.pinhole.test@TEST.PINHOLE -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt %s\nquit\n' \
	"$T/proxy.keytab" | KRB5_CONFIG=/dev/null ktutil >"$T/ktutil.out" 2>&1
[ -s "$T/proxy.keytab" ] || fail "ktutil made no keytab: $(cat "$T/ktutil.out")"
start_tls_origin TLS x.webex.com
hosts_entry 127.0.0.1 x.webex.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab
allow all
EOF
wait_admin

expect_status 407 --interface 127.0.0.2 -A "$UA_WEBEX_WIN" "https://x.webex.com/"
expect_match '^Proxy-Authenticate: Negotiate$' "$HEADERS" "407 headers"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT x\.webex\.com:443 "
report_finding 127.0.0.2 auth-scheme-unsupported
expect_eq breaks "$F_SEVERITY" "severity of auth-scheme-unsupported for the Webex app"
expect_eq breaks "$F_VERDICT" "verdict of the Webex app"
expect_eq SPARK "$F_SOURCE" "source of auth-scheme-unsupported for the Webex app"
expect_eq webex "$F_VENDORS" "vendors of auth-scheme-unsupported for the Webex app"
expect_match "^407 on CONNECT x\.webex\.com:443 at $HMS offered only Negotiate to Webex app\$" "$F_EVIDENCE" \
	"evidence of auth-scheme-unsupported for the Webex app"
expect_eq "auth ntlm users FILE" "$F_ADVICE" "advice of auth-scheme-unsupported"
advice=$F_ADVICE

expect_status 407 --interface 127.0.0.3 -A "$UA_IE11_WIN" "https://api.opentok.com/"
log_line_matching " 127\.0\.0\.3 TCP_DENIED/407 [0-9]+ CONNECT api\.opentok\.com:443 "
report_finding 127.0.0.3 auth-scheme-unsupported
expect_eq breaks "$F_SEVERITY" "severity of auth-scheme-unsupported for Internet Explorer"
expect_eq TOKBOX "$F_SOURCE" "source of auth-scheme-unsupported for Internet Explorer"
expect_eq tokbox "$F_VENDORS" "vendors of auth-scheme-unsupported for Internet Explorer"
expect_match "^407 on CONNECT api\.opentok\.com:443 at $HMS offered only Negotiate to Internet Explorer 11\$" \
	"$F_EVIDENCE" "evidence of auth-scheme-unsupported for Internet Explorer"
report_client 127.0.0.3
expect_eq "Internet Explorer 11" "$C_BROWSER" "browser of the IE client"

printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
apply_advice "$advice" "$T/users.ntlm"
expect_match "^auth ntlm users $T/users\.ntlm\$" "$(tail -n 1 "$T/pinhole.conf")" "the advice in the configuration"
pinhole_reload
report_no_finding 127.0.0.2 auth-scheme-unsupported
report_no_finding 127.0.0.3 auth-scheme-unsupported
if curl -V | grep -q NTLM; then
	expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' --interface 127.0.0.2 -A "$UA_WEBEX_WIN" \
		--cacert "$T/ca.pem" "https://x.webex.com:$TLS/hello"
	log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT x\.webex\.com:$TLS CORP\\\\alice "
	report_no_finding 127.0.0.2 auth-scheme-unsupported 'CORP\alice'
fi
pinhole_stop
