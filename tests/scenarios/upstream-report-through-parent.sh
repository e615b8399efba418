#!/bin/sh
# WebRTC media through a parent proxy: STUN in a CONNECT tunnel that goes
# through the parent is still seen (pinhole classifies the tunnel's bytes),
# and the report's turn-over-tcp evidence says which parent carried it.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_LIB/upstream.sh"

start_stun STUN
hosts_entry 127.0.0.1 turn.example.test
P=$(free_port)
parent_pinhole_start P <<EOF
listen 127.0.0.1:$P
access-log $T/parent-access.log squid
hosts-file $T/hosts
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
upstream-proxy http://127.0.0.1:$P
allow all
EOF
wait_admin

stun_client "turn.example.test:$STUN" --source 127.0.0.2 --ua "$UA_FIREFOX_LINUX"
expect_match '^binding success mapped 127\.0\.0\.1:[0-9]+$' "$STUN_OUT" "STUN answer through both proxies"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN - FIRSTUP_PARENT/127\.0\.0\.1 stun"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN - HIER_DIRECT/127\.0\.0\.1 stun" \
	"$T/parent-access.log"

report_finding 127.0.0.2 turn-over-tcp
expect_match "^STUN in the CONNECT tunnel to turn\.example\.test:$STUN through parent 127\.0\.0\.1:$P at $HMS: media runs TURN over TCP\$" \
	"$F_EVIDENCE" "evidence of turn-over-tcp"
pinhole_stop
