#!/bin/sh
# Behind Basic authentication, a call from a page that needed none (noauth
# for its domain), so the browser holds no proxy credentials when its TURN
# CONNECT gets 407.  Chromium never answers that 407: ICE candidate error
# 701, no relay, no media, and 5 s later the report lists
# turn-auth-not-retried (breaks) with a noauth line for the TURN server.
# Firefox answers the 407 with the user's credentials and the call connects
# over a TCP relay; its report has no turn-auth-not-retried, nor
# auth-required (the 407 was answered).  Each browser
# then renders /report (from the admin interface): the client's verdict and
# every rule report.json lists are on the page, and a screenshot is kept as
# a test artifact (browser-results/report-BROWSER.png in the build dir).
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
noauth domain www.origin.test
turn-server turn.pinhole.test:$TURN
allow all
EOF
	wait_admin
	PH_WEBRTC_SECONDS=12 drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret \
		"page=http://www.origin.test:$WEB/hello" "$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	t_call=$(date +%s)
	record 1 what=webrtc scheme=basic inspection=off credentials=none-cached
	expect_step_ok 0 "the page (noauth)"
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
	log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT turn\.pinhole\.test:$TURN - "
	if [ "$B" = chromium ]; then
		expect_step_fails 1 "Chromium's call with no cached proxy credentials"
		expect_match '(^|,)701(,|$)' "$(dv steps.1.errors | "$PY" -c 'import json,sys; print(",".join(str(e["code"]) for e in json.load(sys.stdin)))')" \
			"ICE candidate error codes in Chromium"
		no_log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN "
		REPORT_WAIT=10 report_finding 127.0.0.1 turn-auth-not-retried ""
		expect_eq breaks "$F_SEVERITY" "severity of turn-auth-not-retried"
		expect_eq "noauth domain turn.pinhole.test port $TURN" "$F_ADVICE" "advice of turn-auth-not-retried"
		expect_match "^407 on CONNECT turn\.pinhole\.test:$TURN at $HMS from Chrom(e|ium) [0-9]+, not retried within 5 s\$" \
			"$F_EVIDENCE" "evidence of turn-auth-not-retried"
	else
		expect_relay_tcp 1
		log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN alice HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
		while [ "$(date +%s)" -lt $((t_call + 6)) ]; do
			sleep 0.2
		done
		report_no_finding 127.0.0.1 turn-auth-not-retried ""
		report_no_finding 127.0.0.1 turn-auth-not-retried alice
		report_no_finding 127.0.0.1 auth-required ""
		report_no_finding 127.0.0.1 auth-required alice
	fi
	record_report scheme=basic inspection=off credentials=none-cached
	report_client 127.0.0.1 ""
	verdict=$C_VERDICT rules=$C_RULES
	shot=$PH_BROWSER_RESULTS/report-$B.png
	rm -f "$shot"
	drive "$B" "page=$ADMIN_URL/report" "screenshot=$shot"
	record 0 what=report-page scheme=basic inspection=off
	expect_step_ok 0 "the /report page"
	expect_step_ok 1 "the screenshot of /report"
	size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
	[ "$size" -gt 10000 ] || fail "$B made no useful screenshot of /report ($size bytes)"
	note "$B: /report screenshot $shot ($size bytes); report.json: verdict $verdict, rules ${rules:-none}"
	page=$(dv steps.0.text)
	expect_match "^$verdict[[:space:]]+127\.0\.0\.1[[:space:]]" "$page" "the client's row on /report in $B (its verdict first)"
	for r in $rules; do
		expect_match "$r" "$page" "finding $r on /report in $B"
	done
	if [ "$B" = chromium ]; then
		expect_match 'turn-auth-not-retried' "$page" "/report in chromium after its call broke"
	else
		expect_no_match 'turn-auth-not-retried' "$page" "/report in firefox after its call went through"
	fi
	pinhole_stop
done
