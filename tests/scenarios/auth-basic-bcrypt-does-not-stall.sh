#!/bin/sh
# A bcrypt check takes a long time on purpose; pinhole runs it on a thread of
# its own, so a burst of new credentials does not stall the worker: while
# eight users with bcrypt cost 12 (a quarter second each) are being checked
# on a single worker, a request that needs no authentication is answered
# at once, and all eight users get their page.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

command -v htpasswd >/dev/null || skip "htpasswd is not installed (apache2-utils)"
: >"$T/users.htpasswd"
for i in 1 2 3 4 5 6 7 8; do
	htpasswd -bB -C 12 "$T/users.htpasswd" "user$i" "pass$i" 2>/dev/null || fail "htpasswd failed"
done

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test free.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
workers 1
auth basic htpasswd $T/users.htpasswd
noauth domain free.origin.test
allow all
EOF

pids=""
for i in 1 2 3 4 5 6 7 8; do
	pcurl -o /dev/null -w '%{http_code}\n' --proxy-basic -U "user$i:pass$i" \
		"http://www.origin.test:$WEB/hello" >"$T/user$i.code" 2>&1 &
	pids="$pids $!"
done
sleep 0.1
t=$(pcurl -o /dev/null -w '%{http_code} %{time_total}' "http://free.origin.test:$WEB/hello") ||
	fail "the request without authentication failed"
for p in $pids; do
	wait "$p"
done
expect_eq 200 "${t%% *}" "status of the request without authentication"
awk -v t="${t##* }" 'BEGIN { exit !(t < 0.5) }' ||
	fail "the request without authentication took ${t##* } s while bcrypt checks ran (the worker stalled)"
note "answered in ${t##* } s during eight bcrypt checks"
for i in 1 2 3 4 5 6 7 8; do
	expect_eq 200 "$(cat "$T/user$i.code")" "status for user$i"
done
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello user8 "
pinhole_stop
