#!/bin/sh
# `quirk strict-tls` (a proxy that lets only TLS through its tunnels) breaks
# the call: the TURN server is reached over TCP through CONNECT, the first
# bytes are STUN, pinhole closes the tunnel, and neither Chromium nor
# Firefox connects (no relay candidate).  The report says why:
# strict-tls-breaks-turn, breaks, "remove quirk strict-tls".
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
quirk strict-tls
allow all
EOF
	wait_admin
	PH_WEBRTC_SECONDS=10 drive "$B" --proxy "127.0.0.1:$PH_PORT" "page=http://www.origin.test:$WEB/hello" \
		"$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	record 1 what=webrtc scheme=none inspection=off quirk=strict-tls
	expect_step_ok 0 "the page"
	expect_step_fails 1 "the WebRTC call through quirk strict-tls"
	expect_eq "[]" "$(dv steps.1.candidates.a)" "relay candidates gathered through quirk strict-tls in $B"
	log_line_matching " CONNECT turn\.pinhole\.test:$TURN "
	report_finding 127.0.0.1 strict-tls-breaks-turn ""
	expect_eq breaks "$F_SEVERITY" "severity of strict-tls-breaks-turn for $B"
	expect_eq breaks "$F_VERDICT" "verdict for $B"
	expect_eq "remove quirk strict-tls" "$F_ADVICE" "advice of strict-tls-breaks-turn for $B"
	expect_match "^quirk strict-tls closed the tunnel to turn\.pinhole\.test:$TURN " "$F_EVIDENCE" \
		"evidence of strict-tls-breaks-turn for $B"
	record_report scheme=none inspection=off quirk=strict-tls
	pinhole_stop
done
