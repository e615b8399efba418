#!/bin/sh
# Chromium and Firefox ESR with pinhole as their proxy and no
# authentication load an http:// page (forwarded: the access log has the
# GET) and an https:// page (a CONNECT tunnel to an origin whose CA the
# browser trusts).  The report names the browser and has no
# unsupported-browser finding (today's versions) and no turn-over-tcp (a
# page is no call); the same Chromium sending the User-Agent of Chrome 79
# (older than CMS's Chrome 88) gets unsupported-browser, degraded.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
start_open_pinhole() {
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
allow domain www.origin.test www.secure.test
EOF
	wait_admin
}
for B in $(browsers); do
	start_open_pinhole
	browser_profile "$B" "$T/ca.pem"
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" \
		"page=http://www.origin.test:$WEB/hello" "page=https://www.secure.test:$TLS/hello"
	record 0 what=page scheme=none inspection=off url=http
	record 1 what=page scheme=none inspection=off url=https
	expect_step_ok 0 "the http:// page"
	expect_eq "hello from the origin" "$(dv steps.0.text | tr -d '\n')" "the http:// page's text in $B"
	expect_step_ok 1 "the https:// page"
	expect_eq "hello from the origin" "$(dv steps.1.text | tr -d '\n')" "the https:// page's text in $B"
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS - HIER_DIRECT/127\.0\.0\.1 tls$"
	report_no_finding 127.0.0.1 unsupported-browser ""
	report_no_finding 127.0.0.1 turn-over-tcp ""
	report_client 127.0.0.1 ""
	expect_match "^(Chrome|Chromium|Firefox) [0-9]+" "$C_BROWSER" "the browser the report names for $B"
	pinhole_stop
done
case " $(browsers) " in
*" chromium "*)
	start_open_pinhole
	drive chromium --proxy "127.0.0.1:$PH_PORT" --user-agent "$UA_CHROME79_WIN" "page=http://www.origin.test:$WEB/hello"
	record 0 what=page scheme=none inspection=off url=http credentials="User-Agent of Chrome 79"
	expect_step_ok 0 "the page with an old User-Agent"
	report_finding 127.0.0.1 unsupported-browser ""
	expect_eq degraded "$F_SEVERITY" "severity of unsupported-browser for Chrome 79"
	expect_match "older than Chrome 88" "$F_EVIDENCE" "evidence of unsupported-browser"
	pinhole_stop
	;;
esac
