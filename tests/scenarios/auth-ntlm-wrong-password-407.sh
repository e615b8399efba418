#!/bin/sh
# curl --proxy-ntlm with a wrong password (or an unknown user) ends with 407:
# the handshake's last message is refused with a fresh `Proxy-Authenticate:
# NTLM` and a body saying the credentials were refused; nothing is forwarded.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'S3cret-ntlm\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

for who in 'CORP\alice:Wr0ng-ntlm' 'CORP\mallory:S3cret-ntlm' 'OTHER\alice:S3cret-ntlm'; do
	expect_status 407 --proxy-ntlm -U "$who" "http://www.origin.test:$WEB/hello"
	expect_eq "Proxy authentication required: the credentials were refused." "$BODY" "407 body for $who"
	expect_match '^Proxy-Authenticate: NTLM$' "$HEADERS" "final 407 headers for $who"
done
expect_status 407 --proxy-ntlm -U 'CORP\alice:Wr0ng-ntlm' --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq 0 "$(origin_count WEB)" "requests the plain origin saw"
expect_eq 0 "$(origin_count TLS)" "requests the TLS origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT www\.origin\.test:$TLS - "
no_log_line_matching 'alice HIER'
# The error log says why, without the secret.
eventually 5 grep -q 'NTLM authentication refused: .*CORP\\alice' "$T/error.log" ||
	fail "no NTLM refusal naming CORP\\alice in the error log: $(cat "$T/error.log")"
expect_no_match 'S3cret-ntlm|Wr0ng-ntlm' "$(cat "$T/error.log")" "error log"
pinhole_stop
