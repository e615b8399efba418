#!/bin/sh
# WebRTC media through an HTTP proxy runs as TURN over TCP inside a CONNECT
# tunnel [MEASURED]: after a Firefox client's two tunnels to a TURN server
# carry STUN Binding requests (answered), /report.json lists turn-over-tcp,
# "degraded" (count 2), with the tunnel's target as evidence and the advice
# to open UDP 3478 in the firewall, which no pinhole setting does.
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
allow all
EOF
wait_admin

for i in 1 2; do
	stun_client "turn.example.test:$STUN" --source 127.0.0.2 --ua "$UA_FIREFOX_LINUX"
	expect_match '^binding success mapped 127\.0\.0\.1:[0-9]+$' "$STUN_OUT" "STUN answer through the tunnel"
done
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN - HIER_DIRECT/127\.0\.0\.1 stun"
expect_eq 2 "$(grep -c ' stun 1$' "$T/STUN.requests")" "STUN connections the TURN server answered"

report_finding 127.0.0.2 turn-over-tcp
expect_eq degraded "$F_SEVERITY" "severity of turn-over-tcp"
expect_eq degraded "$F_VERDICT" "verdict of the Firefox client"
expect_eq 2 "$F_COUNT" "count of turn-over-tcp (two tunnels)"
expect_eq MEASURED "$F_SOURCE" "source of turn-over-tcp"
expect_match "^STUN in the CONNECT tunnel to turn\.example\.test:$STUN at $HMS: media runs TURN over TCP\$" \
	"$F_EVIDENCE" "evidence of turn-over-tcp"
expect_eq "open UDP 3478 (and the vendor's UDP media ports, e.g. 33434 for Webex) in the firewall; this is not a pinhole setting" \
	"$F_ADVICE" "advice of turn-over-tcp"
report_client 127.0.0.2
expect_eq "Firefox 128" "$C_BROWSER" "browser of the Firefox client"
expect_eq Linux "$C_OS" "OS of the Firefox client"
expect_eq "turn-over-tcp" "$C_RULES" "findings of the Firefox client"
pinhole_stop
