#!/bin/sh
# Chromium behind Basic authentication, the way an office sees it: the user
# browsed through the proxy (and authenticated), then a call starts in a
# page that got no proxy credentials of its own (setContent in a second
# browser without any), so its TURN CONNECT carries none and Chromium will
# not answer a 407 on it.  With `auth-surrogate` the CONNECT passes as the
# user who authenticated from this address and the data channel opens over
# TURN/TCP through pinhole; without it, ICE error 701 and the report lists
# turn-auth-not-retried.  Everything else still needs credentials.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_coturn TURN turnuser turnpass
hosts_entry 127.0.0.1 www.origin.test turn.pinhole.test
call_page='<!doctype html><title>call</title><p>a call</p>'
for B in $(browsers); do
	[ "$B" = chromium ] || continue
	for surrogate in on off; do
		browser_run
		cat >"$T/surrogate-$surrogate.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
turn-server turn.pinhole.test:$TURN
allow all
EOF
		[ "$surrogate" = off ] || echo "auth-surrogate 1h" >>"$T/surrogate-$surrogate.conf"
		pinhole_start <"$T/surrogate-$surrogate.conf"
		wait_admin
		# The user browses: the page needs proxy credentials.
		drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret \
			"page=http://www.origin.test:$WEB/hello"
		expect_step_ok 0 "the page with Basic credentials"
		log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
		# A call from a page without proxy credentials.
		PH_WEBRTC_SECONDS=12 drive "$B" --proxy "127.0.0.1:$PH_PORT" "content=$call_page" \
			"$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
		record 1 what=webrtc scheme=basic inspection=off credentials=none auth-surrogate=$surrogate
		if [ "$surrogate" = on ]; then
			expect_relay_tcp 1
			log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN alice HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
			no_log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT turn\.pinhole\.test:$TURN "
			REPORT_WAIT=7 report_no_finding 127.0.0.1 turn-auth-not-retried ""
			report_no_finding 127.0.0.1 turn-auth-not-retried alice
			# Authentication is kept for everything else: the same page
			# without credentials gets a 407 (and no 200).
			drive "$B" --proxy "127.0.0.1:$PH_PORT" "page=http://www.origin.test:$WEB/again"
			expect_step_fails 0 "a page without credentials, auth-surrogate on"
			log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/again - "
			no_log_line_matching " TCP_MISS/[0-9]+ [0-9]+ GET http://www\.origin\.test:$WEB/again "
		else
			expect_step_fails 1 "Chromium's call without credentials, auth-surrogate off"
			expect_match '(^|,)701(,|$)' "$(dv steps.1.errors | "$PY" -c 'import json,sys; print(",".join(str(e["code"]) for e in json.load(sys.stdin)))')" \
				"ICE candidate error codes in Chromium"
			log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT turn\.pinhole\.test:$TURN - "
			REPORT_WAIT=10 report_finding 127.0.0.1 turn-auth-not-retried ""
			expect_eq breaks "$F_SEVERITY" "severity of turn-auth-not-retried"
		fi
		pinhole_stop
	done
done
