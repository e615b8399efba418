#!/bin/sh
# A client that answers the 407 on its TURN CONNECT is not reported: Firefox
# (407, then the CONNECT again with Basic credentials, then 200 and STUN in
# the tunnel [MEASURED]) and a Chrome client that does the same within 5 s
# have no turn-auth-not-retried finding 6 s later, nor auth-required (the
# 407 was answered and the call connected): both are "ok".  Their STUN
# Binding requests reach the TURN server through the tunnel.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_stun STUN
hosts_entry 127.0.0.1 turn.example.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
turn-server turn.example.test:$STUN
allow all
EOF
wait_admin

t407=$(date +%s)
stun_client "turn.example.test:$STUN" --source 127.0.0.3 --ua "$UA_FIREFOX_LINUX" --retry alice:secret
expect_eq "CONNECT 407
CONNECT 200
binding success mapped 127.0.0.1:PORT" "$(sed 's/:[0-9]*$/:PORT/' <<<"$STUN_OUT")" "Firefox's TURN exchange"
stun_client "turn.example.test:$STUN" --source 127.0.0.4 --ua "$UA_CHROME_WIN" --retry alice:secret
expect_match '^binding success mapped 127\.0\.0\.1:[0-9]+$' "$STUN_OUT" "the retrying Chrome client's STUN"
log_line_matching " 127\.0\.0\.3 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN alice "
log_line_matching " 127\.0\.0\.4 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN alice "
expect_eq 2 "$(grep -c ' stun 1$' "$T/STUN.requests")" "STUN connections the TURN server answered"

while [ "$(date +%s)" -lt $((t407 + 7)) ]; do
	sleep 0.2
done
for c in 127.0.0.3 127.0.0.4; do
	# The 407 is the anonymous client's, the retry alice's.
	report_no_finding "$c" turn-auth-not-retried ""
	report_no_finding "$c" turn-auth-not-retried alice
	report_no_finding "$c" auth-required ""
	report_no_finding "$c" auth-required alice
	report_client "$c" ""
	expect_eq ok "$C_VERDICT" "verdict of $c before it authenticated (findings: $C_RULES)"
	report_client "$c" alice
	expect_eq 1 "$C_REQUESTS" "requests of $c as alice"
done
pinhole_stop
