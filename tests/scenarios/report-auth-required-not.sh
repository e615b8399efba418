#!/bin/sh
# With authentication on and the report's fix in place (`noauth domain
# .tokbox.com .opentok.com`), a Chrome client reaches api.opentok.com through
# a CONNECT tunnel without credentials, and its 407 on a host of no WebRTC
# vendor is no finding: /report.json lists it as "ok", without auth-required.
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

report_no_finding 127.0.0.2 auth-required
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
expect_eq 2 "$C_REQUESTS" "requests of the Chrome client"
expect_eq "" "$C_RULES" "findings of the Chrome client"
pinhole_stop
