#!/bin/sh
# Behind Basic authentication, a call from a page the browser loaded
# through the proxy with the user's credentials: Chromium sends the cached
# credentials on its TURN CONNECT, and so does Firefox; in both the call
# connects over a TCP relay, the tunnel is logged as alice, and the report
# has no turn-auth-not-retried (nor auth-required: both browsers send the
# cached credentials with their first TURN CONNECT).
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
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
auth basic htpasswd $T/users.htpasswd
turn-server turn.pinhole.test:$TURN
allow user alice
EOF
	wait_admin
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret \
		"page=http://www.origin.test:$WEB/hello" "$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	record 1 what=webrtc scheme=basic inspection=off credentials=cached
	expect_step_ok 0 "the page, as alice"
	expect_relay_tcp 1
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN alice HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
	t_end=$(date +%s)
	while [ "$(date +%s)" -lt $((t_end + 6)) ]; do
		sleep 0.2
	done
	report_no_finding 127.0.0.1 turn-auth-not-retried ""
	report_no_finding 127.0.0.1 turn-auth-not-retried alice
	# Both browsers sent the cached credentials with their first TURN
	# CONNECT: no 407 there, so no auth-required either.
	no_log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT turn\.pinhole\.test:$TURN "
	report_no_finding 127.0.0.1 auth-required ""
	record_report scheme=basic inspection=off credentials=cached
	pinhole_stop
done
