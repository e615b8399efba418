#!/bin/sh
# Chrome authenticating with NTLM instead of Negotiate is what the report
# advises for Kerberos: alice's Chrome opening CONNECT api.opentok.com with
# NTLM credentials has no kerberos-chrome finding and is "ok" in
# /report.json.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_tls_origin TLS api.opentok.com
hosts_entry 127.0.0.1 api.opentok.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF
wait_admin

expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' --interface 127.0.0.2 -A "$UA_CHROME_WIN" \
	--cacert "$T/ca.pem" "https://api.opentok.com:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the NTLM-authenticated tunnel"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:$TLS CORP\\\\alice "

report_no_finding 127.0.0.2 kerberos-chrome 'CORP\alice'
report_client 127.0.0.2 'CORP\alice'
expect_eq ok "$C_VERDICT" "verdict of alice's Chrome with NTLM (findings: $C_RULES)"
expect_eq "Chrome 131" "$C_BROWSER" "browser of alice's Chrome"
pinhole_stop
