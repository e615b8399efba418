#!/bin/sh
# Chromium cannot answer a 407 on its TURN CONNECT [MEASURED]: a Chrome client
# whose CONNECT to a TURN server (`turn-server turn.example.test:PORT`) gets
# 407 and is not repeated is not reported at once (the report waits 5 s for
# a retry); 6 s later /report.json lists turn-auth-not-retried, "breaks",
# with the CONNECT, the browser and the 5 s in the evidence and a noauth line
# for that server as the fix, and no auth-required besides (one 407, one
# finding: the most specific).
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
stun_client "turn.example.test:$STUN" --source 127.0.0.2 --ua "$UA_CHROME_WIN" --expect 407
expect_eq "CONNECT 407" "$STUN_OUT" "the Chrome client's TURN CONNECT"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT turn\.example\.test:$STUN "
expect_eq 0 "$(origin_count STUN)" "connections the TURN server saw"

# Within the window the client may still retry: no conclusion yet.
report_no_finding 127.0.0.2 turn-auth-not-retried
report_no_finding 127.0.0.2 auth-required

# Past the window (5 s after the 407).
while [ "$(date +%s)" -lt $((t407 + 7)) ]; do
	sleep 0.2
done
report_finding 127.0.0.2 turn-auth-not-retried
expect_eq breaks "$F_SEVERITY" "severity of turn-auth-not-retried"
expect_eq breaks "$F_VERDICT" "verdict of the Chrome client"
expect_eq 1 "$F_COUNT" "count of turn-auth-not-retried"
expect_eq MEASURED "$F_SOURCE" "source of turn-auth-not-retried"
expect_match "^407 on CONNECT turn\.example\.test:$STUN at $HMS from Chrome 131, not retried within 5 s\$" \
	"$F_EVIDENCE" "evidence of turn-auth-not-retried"
expect_eq "noauth domain turn.example.test port $STUN" "$F_ADVICE" "advice of turn-auth-not-retried"
expect_config_line "$F_ADVICE"
report_no_finding 127.0.0.2 auth-required
pinhole_stop
