#!/bin/sh
# /metrics counts the WebRTC report's clients by verdict and by rule: after a
# Chrome client's CONNECT to api.opentok.com is denied (breaks), a Firefox
# client's TURN over TCP (degraded) and a Safari client's plain GET (ok),
# each from its own address, pinhole_webrtc_clients says 1 breaks,
# 1 degraded, 1 ok, pinhole_webrtc_clients_with_finding says 1 for
# domain-blocked and turn-over-tcp and 0 for the other rules, and the whole
# page passes `promtool check metrics`.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_origin WEB http
start_stun STUN
hosts_entry 127.0.0.1 www.origin.test turn.example.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
deny domain .opentok.com
allow all
EOF
wait_admin

expect_admin 200 /metrics
for v in breaks degraded ok; do
	expect_match "^pinhole_webrtc_clients\{verdict=\"$v\"\} 0\$" "$BODY" "/metrics before any traffic"
done

expect_status 403 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "https://api.opentok.com/"
stun_client "turn.example.test:$STUN" --source 127.0.0.3 --ua "$UA_FIREFOX_LINUX"
expect_status 200 --interface 127.0.0.4 -A "$UA_SAFARI_IPHONE" "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.3 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$STUN "
log_line_matching " 127\.0\.0\.4 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

counted() {
	admin_get /metrics
	grep -qx 'pinhole_webrtc_clients{verdict="breaks"} 1' <<<"$BODY" &&
		grep -qx 'pinhole_webrtc_clients{verdict="degraded"} 1' <<<"$BODY" &&
		grep -qx 'pinhole_webrtc_clients{verdict="ok"} 1' <<<"$BODY"
}
eventually 5 counted || fail "/metrics does not count 1 client per verdict:
$(grep webrtc <<<"$BODY")"
expect_match '^pinhole_webrtc_clients_with_finding\{rule="domain-blocked"\} 1$' "$BODY" "/metrics"
expect_match '^pinhole_webrtc_clients_with_finding\{rule="turn-over-tcp"\} 1$' "$BODY" "/metrics"
rules=$(grep -c '^pinhole_webrtc_clients_with_finding{rule="[a-z-]*"} [0-9]*$' <<<"$BODY")
[ "$rules" -ge 15 ] || fail "/metrics lists $rules rules in pinhole_webrtc_clients_with_finding, expected 15 or more"
expect_eq 2 "$(grep '^pinhole_webrtc_clients_with_finding{' <<<"$BODY" | grep -vc ' 0$')" \
	"rules with a client in /metrics"
expect_match '^# TYPE pinhole_webrtc_clients gauge$' "$BODY" "/metrics"
expect_match '^pinhole_webrtc_events_dropped_total 0$' "$BODY" "/metrics"

# The same as the report says.
expect_eq "127.0.0.2 breaks domain-blocked
127.0.0.3 degraded turn-over-tcp
127.0.0.4 ok -" "$("$PY" "$PH_LIB/report.py" "$ADMIN_URL" | awk '{ print $1, $3, $4 }' | sort)" \
	"clients of /report.json"

if command -v promtool >/dev/null; then
	promtool check metrics <"$T/admin.body" >"$T/promtool.out" 2>&1 ||
		fail "promtool check metrics refused /metrics:
$(cat "$T/promtool.out")"
else
	note "no promtool: /metrics not checked by it (apt-get install prometheus)"
fi
pinhole_stop
