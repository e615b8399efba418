#!/bin/sh
# With TLS inspection on, a CONNECT tunnel whose first bytes are STUN (TURN
# over TCP) is not TLS and is spliced untouched: the Binding request gets its
# answer through pinhole, the access log says stun and the report has
# turn-over-tcp.  Adding `quirk strict-tls` (reload) closes such a tunnel
# without an answer, logged as closed by strict-tls and reported as
# strict-tls-breaks-turn, while TLS tunnels are still inspected.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
start_stun STUN
hosts_entry 127.0.0.1 stun.test www.inspect.test
conf() {
	cat <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log json
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
$1
allow all
EOF
}
conf "" >"$T/first.conf"
pinhole_start <"$T/first.conf"
wait_admin

stun_client "stun.test:$STUN" --source 127.0.0.5 --ua "$UA_CHROME_WIN"
expect_match '^binding success mapped 127\.0\.0\.1:[0-9]+$' "$STUN_OUT" "STUN through an inspecting pinhole"
log_line_matching "\"client\":\"127\.0\.0\.5\",\"result\":\"TCP_TUNNEL\",\"status\":200,.*\"method\":\"CONNECT\",\"url\":\"stun\.test:$STUN\",.*\"mime\":\"stun\""
expect_no_match 'tls-' "$LINE" "the STUN tunnel's log line"
eventually 5 test "$(grep -c ' stun 1$' "$T/STUN.requests")" = 1 ||
	fail "the STUN responder did not log one answered connection: $(cat "$T/STUN.requests")"
report_finding 127.0.0.5 turn-over-tcp
expect_match "stun\.test:$STUN" "$F_EVIDENCE" "turn-over-tcp evidence"
report_no_finding 127.0.0.5 strict-tls-breaks-turn

# The same with quirk strict-tls.
conf "quirk strict-tls" >"$T/pinhole.conf"
pinhole_reload
stun_client "stun.test:$STUN" --source 127.0.0.6 --ua "$UA_CHROME_WIN" --expect-closed
expect_match '^tunnel closed without an answer$' "$STUN_OUT" "STUN with quirk strict-tls"
expect_eq 1 "$(grep -c ' stun 1$' "$T/STUN.requests")" "STUN connections the responder answered"
log_line_matching "\"client\":\"127\.0\.0\.6\",.*\"method\":\"CONNECT\",\"url\":\"stun\.test:$STUN\",.*\"error\":\"[^\"]*strict-tls"
report_finding 127.0.0.6 strict-tls-breaks-turn
expect_eq breaks "$F_SEVERITY" "strict-tls-breaks-turn severity"
expect_match "stun\.test:$STUN" "$F_EVIDENCE" "strict-tls-breaks-turn evidence"

# TLS still goes through, inspected.
expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/hello"
log_line_matching "\"method\":\"GET\",\"url\":\"https://www\.inspect\.test:$WEB/hello\""
log_line_matching "\"method\":\"CONNECT\",\"url\":\"www\.inspect\.test:$WEB\",.*\"mime\":\"tls-inspected\""
pinhole_stop
