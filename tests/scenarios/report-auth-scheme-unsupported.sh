#!/bin/sh
# A proxy that offers only Negotiate (Kerberos) leaves the Webex app, which
# has no Kerberos [SPARK], and Internet Explorer, which copes only with Basic
# and NTLM [TOKBOX], without a usable scheme: after their CONNECTs get 407,
# /report.json lists auth-scheme-unsupported, "breaks", for both, naming the
# scheme offered and the client, with the directives that add Basic or NTLM.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

command -v ktutil >/dev/null || skip "needs ktutil (apt-get install krb5-user)"
# A keytab of the proxy's own; no KDC is needed to send a challenge.
printf 'addent -password -p HTTP/proxy.pinhole.test@TEST.PINHOLE -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt %s\nquit\n' \
	"$T/proxy.keytab" | KRB5_CONFIG=/dev/null ktutil >"$T/ktutil.out" 2>&1
[ -s "$T/proxy.keytab" ] || fail "ktutil made no keytab: $(cat "$T/ktutil.out")"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
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
expect_eq "add auth basic htpasswd FILE or auth ntlm users FILE" "$F_ADVICE" "advice of auth-scheme-unsupported"

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
pinhole_stop
