#!/bin/sh
# Basic credentials go with every request, and an authenticated client keeps
# its connection: curl fetching two URLs with --proxy-basic opens one
# connection to the proxy, and both requests are logged as alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

out=$(pcurl --proxy-basic -U alice:secret -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	"http://www.origin.test:$WEB/hello" "http://www.origin.test:$WEB/conn" 2>"$T/curl.err") ||
	fail "curl failed: $(cat "$T/curl.err")"
expect_eq "200 200" "$(awk '{ printf "%s%s", s, $1; s = " " }' <<<"$out")" "statuses"
expect_eq 1 "$(awk '{ n += $2 } END { print n }' <<<"$out")" "connections curl opened to the proxy"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn alice "
expect_eq 2 "$(grep -c " TCP_MISS/200 [0-9]* GET http://www\.origin\.test:$WEB/[a-z]* alice " "$T/access.log")" \
	"requests logged as alice"
pinhole_stop
