#!/bin/sh
# `auth basic helper` with Squid's own basic_ncsa_auth against an htpasswd
# file: the right password passes (plain HTTP, two requests on one kept-alive
# connection, and a CONNECT), a wrong one gets 407, the user is logged and
# the password is not.  `cache 0` makes every request ask the helper.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

helper=/usr/lib/squid/basic_ncsa_auth
[ -x "$helper" ] || skip "Squid's basic_ncsa_auth is not installed (Debian package squid)"
command -v htpasswd >/dev/null || skip "htpasswd is not installed (apache2-utils)"
htpasswd -bcB "$T/users.htpasswd" alice 's3cret pass' 2>/dev/null || fail "htpasswd failed"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth basic helper "$helper $T/users.htpasswd" children 2 cache 0
allow all
EOF

out=$(pcurl --proxy-basic -U 'alice:s3cret pass' -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	"http://www.origin.test:$WEB/hello" "http://www.origin.test:$WEB/conn" 2>"$T/curl.err") ||
	fail "curl failed: $(cat "$T/curl.err")"
expect_eq "200 200" "$(awk '{ printf "%s%s", s, $1; s = " " }' <<<"$out")" "statuses"
expect_eq 1 "$(awk '{ n += $2 } END { print n }' <<<"$out")" "connections curl opened to the proxy"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn alice "

code=$(pcurl --proxy-basic -U 'alice:s3cret pass' --cacert "$T/ca.pem" -o /dev/null -w '%{http_code}' \
	"https://www.origin.test:$TLS/hello" 2>"$T/curl.err") || fail "curl through CONNECT failed: $(cat "$T/curl.err")"
expect_eq 200 "$code" "HTTPS through an authenticated CONNECT"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice "

expect_status 407 --proxy-basic -U 'alice:wrong pass' "http://www.origin.test:$WEB/nope"
expect_match 'Proxy-Authenticate: Basic realm=' "$HEADERS" "challenge after a wrong password"
log_line_matching "Basic authentication refused: wrong user name or password for alice" "$T/error.log"
if grep -q -e 's3cret' -e 'wrong pass' "$T/access.log" "$T/error.log"; then
	fail "a password reached a log"
fi
pinhole_stop
