#!/bin/sh
# The WebRTC report (/report on the admin interface) rendered by each
# browser after that browser's own call broke behind Basic authentication
# with no cached credentials (Chromium) or went through (Firefox): the page
# shows the client's table captioned with its address and verdict, the
# findings the report.json has, and a screenshot of it is kept as a test
# artifact (browser-results/report-rendered-BROWSER.png in the build dir).
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
	PH_WEBRTC_SECONDS=10 drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret \
		"page=http://www.origin.test:$WEB/hello" "$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	t_call=$(date +%s)
	while [ "$(date +%s)" -lt $((t_call + 6)) ]; do
		sleep 0.2
	done
	report_client 127.0.0.1 ""
	verdict=$C_VERDICT rules=$C_RULES
	# The report page itself, straight from the admin interface.
	shot=$PH_BROWSER_RESULTS/report-rendered-$B.png
	rm -f "$shot"
	drive "$B" "page=$ADMIN_URL/report" "screenshot=$shot"
	record 0 what=report-page scheme=basic inspection=off
	expect_step_ok 0 "the /report page"
	expect_step_ok 1 "the screenshot of /report"
	size=$(stat -c %s "$shot" 2>/dev/null || echo 0)
	[ "$size" -gt 10000 ] || fail "$B made no useful screenshot of /report ($size bytes)"
	note "$B: /report screenshot $shot ($size bytes); report.json: verdict $verdict, rules ${rules:-none}"
	page=$(dv steps.0.text)
	expect_match "127\.0\.0\.1.*$verdict" "$page" "the client's caption on /report in $B"
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
