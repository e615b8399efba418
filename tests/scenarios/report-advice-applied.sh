#!/bin/sh
# Applying a finding's advice to the configuration makes the finding go
# away, and nothing new breaks.  Behind Basic authentication, with allow
# rules that do not name the TURN server, a client's TURN CONNECT gets 407
# and is not answered: auth-required advises two lines, an allow line and a
# noauth line, because the noauth line alone would turn the 407 into a 403.
# Applied alone (what the report used to advise), the noauth line does
# exactly that, and the report now says so (port-blocked, with the allow
# line).  With both lines and a reload, the findings the new configuration
# fixed are gone from /report.json, and the same client's TURN CONNECT opens
# without credentials and carries STUN (turn-over-tcp, degraded, only).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_stun STUN
hosts_entry 127.0.0.1 turn.example.test www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
turn-server turn.example.test:$STUN
allow domain www.origin.test
deny all
EOF
wait_admin

stun_client "turn.example.test:$STUN" --source 127.0.0.2 --ua "$UA_FIREFOX_LINUX" --expect 407
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT turn\.example\.test:$STUN "
REPORT_WAIT=10 report_finding 127.0.0.2 auth-required
expect_eq breaks "$F_SEVERITY" "severity of auth-required"
advice=$F_ADVICE
expect_eq "allow domain turn.example.test port $STUN\x0anoauth domain turn.example.test port $STUN" "$advice" \
	"advice of auth-required: an allow line too, since no rule allows the TURN server"
expect_config_line "$advice"
expect_admin 200 /report
expect_match "<code class=\"wr-line\">allow domain turn\.example\.test port $STUN</code><code class=\"wr-line\">noauth domain turn\.example\.test port $STUN</code>" \
	"$BODY" "the two lines on /report"

# The noauth line alone: the CONNECT is now denied, and the report says so.
apply_advice "noauth domain turn.example.test port $STUN"
pinhole_reload
stun_client "turn.example.test:$STUN" --source 127.0.0.3 --ua "$UA_FIREFOX_LINUX" --expect 403
log_line_matching " 127\.0\.0\.3 TCP_DENIED/403 [0-9]+ CONNECT turn\.example\.test:$STUN "
report_finding 127.0.0.3 port-blocked
expect_eq breaks "$F_SEVERITY" "severity of port-blocked on the TURN server"
expect_match "^403 on CONNECT turn\.example\.test:$STUN at $HMS, a TURN server \(denied by .*pinhole\.conf:[0-9]+\)\$" \
	"$F_EVIDENCE" "evidence of port-blocked"
expect_eq "allow domain turn.example.test port $STUN" "$F_ADVICE" "advice of port-blocked"

# The whole advice: both lines, reloaded.
apply_advice "allow domain turn.example.test port $STUN"
pinhole_reload
expect_match "^allow domain turn\.example\.test port $STUN\$" "$(grep -m1 -E "^(allow|deny) " "$T/pinhole.conf")" \
	"the allow line, before the first rule"
# Fixed by the reload: gone without any new traffic.
report_no_finding 127.0.0.2 auth-required
report_no_finding 127.0.0.3 port-blocked
for c in 127.0.0.2 127.0.0.3; do
	stun_client "turn.example.test:$STUN" --source $c --ua "$UA_FIREFOX_LINUX"
	expect_match '^CONNECT 200' "$STUN_OUT" "the TURN CONNECT of $c once the advice is applied"
	expect_match 'binding success mapped' "$STUN_OUT" "STUN through the tunnel of $c"
	log_line_matching " ${c//./\\.} TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN - "
done
sleep 6
for c in 127.0.0.2 127.0.0.3; do
	report_client "$c" ""
	expect_eq degraded "$C_VERDICT" "verdict of $c (findings: $C_RULES)"
	expect_eq turn-over-tcp "$C_RULES" "findings of $c once the advice is applied"
done
pinhole_stop
