#!/bin/sh
# unsupported-browser keys on the User-Agent: today's Chromium and Firefox
# ESR loading a page through pinhole are not reported; the same Chromium
# sending the User-Agent of Chrome 79 (older than CMS's Chrome 88) is, as
# degraded, with "update the browser" as the fix.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
run_one() {
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
allow all
EOF
	wait_admin
	drive "$@" "page=http://www.origin.test:$WEB/hello"
	expect_step_ok 0 "the page"
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
}
for B in $(browsers); do
	run_one "$B" --proxy "127.0.0.1:$PH_PORT"
	record 0 what=page scheme=none inspection=off url=http
	report_no_finding 127.0.0.1 unsupported-browser ""
	report_client 127.0.0.1 ""
	expect_match "^(Chrome|Chromium|Firefox) [0-9]+" "$C_BROWSER" "the browser the report names for $B"
	pinhole_stop
done
case " $(browsers) " in
*" chromium "*)
	run_one chromium --proxy "127.0.0.1:$PH_PORT" --user-agent "$UA_CHROME79_WIN"
	record 0 what=page scheme=none inspection=off url=http credentials="User-Agent of Chrome 79"
	report_finding 127.0.0.1 unsupported-browser ""
	expect_eq degraded "$F_SEVERITY" "severity of unsupported-browser for Chrome 79"
	expect_match "older than Chrome 88" "$F_EVIDENCE" "evidence of unsupported-browser"
	pinhole_stop
	;;
esac
