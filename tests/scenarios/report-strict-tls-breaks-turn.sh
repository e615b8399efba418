#!/bin/sh
# A proxy that lets only real TLS through its tunnels breaks TURN over TCP
# (Firefox has no TURN over TLS) [TOKBOX]: with `quirk strict-tls`, a Firefox
# client's STUN Binding request in a CONNECT tunnel gets no answer (the
# tunnel is closed), and /report.json lists strict-tls-breaks-turn, "breaks",
# with the tunnel and what its first bytes were, fixed by removing the quirk.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_stun STUN
hosts_entry 127.0.0.1 turn.example.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
quirk strict-tls
allow all
EOF
wait_admin

stun_client "turn.example.test:$STUN" --source 127.0.0.2 --ua "$UA_FIREFOX_LINUX" --expect-closed
expect_eq "CONNECT 200
tunnel closed without an answer" "$STUN_OUT" "the Firefox client's TURN over TCP"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN "
expect_no_match ' stun [1-9]' "$(cat "$T/STUN.requests")" "STUN messages the TURN server got"

report_finding 127.0.0.2 strict-tls-breaks-turn
expect_eq breaks "$F_SEVERITY" "severity of strict-tls-breaks-turn"
expect_eq breaks "$F_VERDICT" "verdict of the Firefox client"
expect_eq TOKBOX "$F_SOURCE" "source of strict-tls-breaks-turn"
expect_eq 1 "$F_COUNT" "count of strict-tls-breaks-turn"
expect_match "^quirk strict-tls closed the tunnel to turn\.example\.test:$STUN \(first bytes: stun\) at $HMS\$" \
	"$F_EVIDENCE" "evidence of strict-tls-breaks-turn"
expect_eq "remove quirk strict-tls" "$F_ADVICE" "advice of strict-tls-breaks-turn"
pinhole_stop
