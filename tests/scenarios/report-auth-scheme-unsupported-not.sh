#!/bin/sh
# When the 407 offers NTLM as well as Negotiate, the Webex app and Internet
# Explorer have a scheme they can use: their 407s are no
# auth-scheme-unsupported finding in /report.json.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

command -v ktutil >/dev/null || skip "needs ktutil (apt-get install krb5-user)"
printf 'addent -password -p HTTP/proxy.pinhole.test@TEST.PINHOLE -k 1 -e aes256-cts-hmac-sha1-96\nsecret\nwkt %s\nquit\n' \
	"$T/proxy.keytab" | KRB5_CONFIG=/dev/null ktutil >"$T/ktutil.out" 2>&1
[ -s "$T/proxy.keytab" ] || fail "ktutil made no keytab: $(cat "$T/ktutil.out")"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
auth negotiate keytab $T/proxy.keytab
auth ntlm users $T/users.ntlm
allow all
EOF
wait_admin

expect_status 407 --interface 127.0.0.2 -A "$UA_WEBEX_WIN" "https://x.webex.com/"
expect_eq "Negotiate NTLM" "$(sed -n 's/^Proxy-Authenticate: \([A-Za-z]*\).*/\1/p' <<<"$HEADERS" | xargs)" \
	"schemes of the 407, in config order"
expect_status 407 --interface 127.0.0.3 -A "$UA_IE11_WIN" "https://api.opentok.com/"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT x\.webex\.com:443 "
log_line_matching " 127\.0\.0\.3 TCP_DENIED/407 [0-9]+ CONNECT api\.opentok\.com:443 "
report_no_finding 127.0.0.2 auth-scheme-unsupported
report_no_finding 127.0.0.3 auth-scheme-unsupported
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Webex app offered NTLM (findings: $C_RULES)"
pinhole_stop
