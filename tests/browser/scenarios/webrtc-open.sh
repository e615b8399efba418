#!/bin/sh
# A video call behind an open proxy: two relay-only RTCPeerConnections in
# one page, TURN over TCP (coturn, long-term credentials) reached only
# through pinhole, connect in Chromium and Firefox; the selected candidate
# pair is a relay reached over TCP, a data channel message goes through,
# the access log shows the CONNECTs to the TURN server carrying STUN, and
# the report says turn-over-tcp (degraded), never turn-auth-not-retried or
# strict-tls-breaks-turn.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

start_origin WEB http
start_coturn TURN turnuser turnpass
hosts_entry 127.0.0.1 www.origin.test turn.pinhole.test
for B in $(browsers); do
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
turn-server turn.pinhole.test:$TURN
allow all
EOF
	wait_admin
	drive "$B" --proxy "127.0.0.1:$PH_PORT" "page=http://www.origin.test:$WEB/hello" \
		"$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	record 1 what=webrtc scheme=none inspection=off
	expect_step_ok 0 "the page"
	expect_relay_tcp 1
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN - HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
	report_finding 127.0.0.1 turn-over-tcp ""
	expect_eq degraded "$F_SEVERITY" "severity of turn-over-tcp for $B"
	report_no_finding 127.0.0.1 turn-auth-not-retried ""
	report_no_finding 127.0.0.1 strict-tls-breaks-turn ""
	record_report scheme=none inspection=off
	pinhole_stop
done
