#!/bin/sh
# A proxy that demands authentication breaks TokBox WebRTC [TOKBOX]: after a
# Chrome client gets 407 on CONNECT api.opentok.com:443 (twice) and does not
# answer within 5 s, /report.json lists it as "breaks" with finding
# auth-required (count 2, vendor tokbox), the CONNECT as evidence and
# `noauth domain .tokbox.com .opentok.com` as the fix; an unanswered 407 on
# a CONNECT to a TURN port (3478) is the same finding, "(a TURN server)",
# on the measured fact [MEASURED], fixed by a noauth line for that server.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
auth basic htpasswd $T/users.htpasswd
allow all
EOF
wait_admin

for i in 1 2; do
	expect_status 407 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "https://api.opentok.com/"
done
t407=$(date +%s)
expect_match '^Proxy-Authenticate: Basic' "$HEADERS" "407 headers"
log_line_matching "^[0-9.]+ +[0-9]+ 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT api\.opentok\.com:443 "

# Past the retry window of both 407s.
while [ "$(date +%s)" -lt $((t407 + 7)) ]; do
	sleep 0.2
done
report_finding 127.0.0.2 auth-required
expect_eq breaks "$F_SEVERITY" "severity of auth-required"
expect_eq breaks "$F_VERDICT" "verdict of the Chrome client"
expect_eq 2 "$F_COUNT" "count of auth-required (two CONNECTs answered 407)"
expect_eq tokbox "$F_VENDORS" "vendors of auth-required"
expect_eq TOKBOX "$F_SOURCE" "source of auth-required"
expect_match "^407 on CONNECT api\.opentok\.com:443 at $HMS, not answered within 5 s\$" "$F_EVIDENCE" \
	"evidence of auth-required"
expect_eq "noauth domain .tokbox.com .opentok.com" "$F_ADVICE" "advice of auth-required"
expect_config_line "$F_ADVICE"
report_client 127.0.0.2
expect_eq "Chrome 131" "$C_BROWSER" "browser of the Chrome client"
expect_eq Windows "$C_OS" "OS of the Chrome client"

# A TURN server of no known vendor, on the IANA TURN port.
expect_status 407 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" -p "http://turn.example.test:3478/"
log_line_matching " 127\.0\.0\.3 TCP_DENIED/407 [0-9]+ CONNECT turn\.example\.test:3478 "
REPORT_WAIT=10 report_finding 127.0.0.3 auth-required
expect_eq breaks "$F_SEVERITY" "severity of auth-required on a TURN server"
expect_eq MEASURED "$F_SOURCE" "source of auth-required on a TURN server of no vendor"
expect_eq "" "$F_VENDORS" "vendors of auth-required on a TURN server of no vendor"
expect_eq breaks "$F_VERDICT" "verdict of the Firefox client"
expect_eq 1 "$F_COUNT" "count of auth-required on the TURN server"
expect_match "^407 on CONNECT turn\.example\.test:3478 at $HMS \(a TURN server\), not answered within 5 s\$" "$F_EVIDENCE" \
	"evidence of auth-required on a TURN server"
expect_eq "noauth domain turn.example.test port 3478" "$F_ADVICE" "advice of auth-required on a TURN server"
expect_config_line "$F_ADVICE"
# Firefox answers a 407 [MEASURED]: that rule is Chromium's alone.
report_no_finding 127.0.0.3 turn-auth-not-retried
pinhole_stop
