#!/bin/sh
# With `pinning-learn on`, a client that pins its server's key (curl
# --pinnedpubkey) and refuses the minted certificate twice makes pinhole
# learn the domain as pinned: the error log says so, /config lists it, the
# next tunnels are spliced (tls-spliced-learned) so the pin holds, and the
# list kept in state-dir survives a restart.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
PIN=$(key_pin)
hosts_entry 127.0.0.1 www.inspect.test
mkdir "$T/state"
cat >"$T/run.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
pinning-learn on
state-dir $T/state
allow all
EOF
pinhole_start <"$T/run.conf"
wait_admin
URL=https://www.inspect.test:$WEB/hello

# Two refusals of the minted certificate: not learned after the first.
pin_curl "$PIN" "$URL"
expect_eq 90 "$CURL_RC" "1st pinned fetch, inspected (exit 90 = pin mismatch; $CURL_ERR)"
error_log_matching "pinning: .*www\.inspect\.test.*\(1 time\)"
expect_no_match 'learned as certificate-pinned' "$(cat "$T/pinhole.err")" "error log after one failure"
pin_curl "$PIN" "$URL"
expect_eq 90 "$CURL_RC" "2nd pinned fetch, inspected (exit 90 = pin mismatch; $CURL_ERR)"
error_log_matching "pinning: www\.inspect\.test learned as certificate-pinned"
expect_match '^www\.inspect\.test$' "$(cat "$T/state/learned-no-inspect" 2>&1)" "$T/state/learned-no-inspect"

# From now on: spliced, the origin's own certificate, the pin holds.
pin_curl "$PIN" "$URL"
expect_eq 0 "$CURL_RC" "3rd pinned fetch, after learning ($CURL_ERR)"
expect_eq "hello from the origin" "$BODY" "body of the 3rd fetch"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inspect\.test:$WEB .* tls-spliced-learned$"

expect_admin 200 /config
expect_match '^# learned no-inspect www\.inspect\.test$' "$BODY" "/config after learning"
report_finding 127.0.0.1 pinning-failure-observed

# A restart reads the list back from state-dir.
pinhole_stop
pinhole_start <"$T/run.conf"
wait_admin
pin_curl "$PIN" "$URL"
expect_eq 0 "$CURL_RC" "4th pinned fetch, after a restart ($CURL_ERR)"
eventually 5 test "$(grep -c " CONNECT www\.inspect\.test:$WEB .* tls-spliced-learned$" "$ACCESS_LOG")" = 2 ||
	fail "expected two tunnels logged tls-spliced-learned (3rd and 4th fetch):
$(cat "$ACCESS_LOG")"
expect_admin 200 /config
expect_match '^# learned no-inspect www\.inspect\.test$' "$BODY" "/config after the restart"
pinhole_stop

# The error log names where the list is kept, in balanced parentheses.
error_log_matching "pinning: www\.inspect\.test learned as certificate-pinned .*\(kept in $T/state\)"
# Each failed attempt is logged as the CONNECT it was: no access-log line
# without a method and URL.
no_log_line_matching '^[0-9.]+ +[0-9]+ [^ ]+ [A-Z_]+/[0-9]+ [0-9]+ - '
