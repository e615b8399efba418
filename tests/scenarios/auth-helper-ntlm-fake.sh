#!/bin/sh
# `auth ntlm helper` with Squid's ntlm_fake_auth: pinhole relays curl's
# Type 1 as YR and its Type 3 as KK to one reserved helper child, the 200
# comes on the same connection, the user the helper names is logged, and
# the connection stays authenticated for its next request.  (ntlm_fake_auth
# accepts any password: it tests the protocol, not the credentials.)
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

helper=/usr/lib/squid/ntlm_fake_auth
[ -x "$helper" ] || skip "Squid's ntlm_fake_auth is not installed (Debian package squid)"
curl -V | grep -q NTLM || skip "needs a curl built with NTLM"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm helper "$helper" children 2
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: NTLM$' "$HEADERS" "407 headers"

out=$(pcurl --proxy-ntlm -U 'EXAMPLE\alice:whatever' -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects}\n' "http://www.origin.test:$WEB/hello" "http://www.origin.test:$WEB/conn" \
	2>"$T/curl.err") || fail "curl failed: $(cat "$T/curl.err")"
expect_eq "200 200" "$(awk '{ printf "%s%s", s, $1; s = " " }' <<<"$out")" "statuses"
expect_eq 1 "$(awk '{ n += $2 } END { print n }' <<<"$out")" "connections curl opened to the proxy"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn [^ ]*alice[^ ]* "

expect_status 200 --proxy-ntlm -U 'EXAMPLE\alice:whatever' --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS [^ ]*alice[^ ]* "
pinhole_stop
