#!/bin/sh
# With authentication on and the report's fix in place (`noauth domain
# .tokbox.com .opentok.com`), a Chrome client reaches api.opentok.com through
# a CONNECT tunnel without credentials, and its 407 on a host of no WebRTC
# vendor is no finding: /report.json lists it as "ok", without auth-required.
# Browsers' background traffic answered 407 (update.googleapis.com and
# accounts.google.com from an old Chrome, firefox.settings.services.mozilla.com
# from Firefox) is no WebRTC finding at all, not even unsupported-browser:
# that client is "ok" too, 6 s later.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_tls_origin TLS api.opentok.com www.origin.test
hosts_entry 127.0.0.1 api.opentok.com www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
noauth domain .tokbox.com .opentok.com
allow all
EOF
wait_admin

chrome=(--interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem")
expect_status 200 "${chrome[@]}" "https://api.opentok.com:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body from api.opentok.com without credentials"
expect_status 407 "${chrome[@]}" "https://www.origin.test:$TLS/hello"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/407 [0-9]+ CONNECT www\.origin\.test:$TLS "
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:$TLS "

t0=$(date +%s)
for h in update.googleapis.com accounts.google.com; do
	expect_status 407 --interface 127.0.0.5 -A "$UA_CHROME79_WIN" "https://$h/"
done
expect_status 407 --interface 127.0.0.5 -A "$UA_FIREFOX_LINUX" "https://firefox.settings.services.mozilla.com/"
log_line_matching " 127\.0\.0\.5 TCP_DENIED/407 [0-9]+ CONNECT firefox\.settings\.services\.mozilla\.com:443 "

report_no_finding 127.0.0.2 auth-required
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
expect_eq 2 "$C_REQUESTS" "requests of the Chrome client"
expect_eq "" "$C_RULES" "findings of the Chrome client"
while [ "$(date +%s)" -lt $((t0 + 7)) ]; do
	sleep 0.2
done
report_client 127.0.0.5
expect_eq "ok|3|" "$C_VERDICT|$C_REQUESTS|$C_RULES" "the client of the background traffic"
pinhole_stop
