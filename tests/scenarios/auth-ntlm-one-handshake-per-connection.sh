#!/bin/sh
# NTLM authenticates the connection: curl fetching three URLs with --proxy-ntlm
# opens one connection and only the first request carries the handshake (one
# 407 in the log); all three are logged as CORP\alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

out=$(pcurl -v --proxy-ntlm -U 'CORP\alice:secret' -o /dev/null -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects}\n' "http://www.origin.test:$WEB/hello" \
	"http://www.origin.test:$WEB/conn" "http://www.origin.test:$WEB/hello?third" 2>"$T/curl.err") ||
	fail "curl failed: $(cat "$T/curl.err")"
expect_eq "200 200 200" "$(awk '{ printf "%s%s", s, $1; s = " " }' <<<"$out")" "statuses"
expect_eq 1 "$(awk '{ n += $2 } END { print n }' <<<"$out")" "connections curl opened to the proxy"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?third CORP\\\\alice "
expect_eq 3 "$(grep -c ' TCP_MISS/200 .* CORP\\alice ' "$T/access.log")" "requests logged as CORP\\alice"
expect_eq 1 "$(grep -c ' TCP_DENIED/407 ' "$T/access.log")" "407s in the access log"

# curl -v: the handshake's two messages went with the first request only;
# the later ones carried no Proxy-Authorization.
expect_eq 2 "$(grep -c '^> Proxy-Authorization: NTLM ' "$T/curl.err")" "Proxy-Authorization headers curl sent"
pinhole_stop
