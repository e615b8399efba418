#!/bin/sh
# With `pinning-learn on`, pinhole learns a domain as pinned only from
# evidence one client cannot fake alone: certificate alerts (a client
# refusing the minted certificate) from two client addresses.  One client
# refusing it any number of times, or a client that merely closes after the
# handshake (curl --pinnedpubkey), teaches nothing.  Once learned: the error
# log says so, /config says why, the next tunnels are spliced
# (tls-spliced-learned) so pins hold, and the list kept in state-dir
# survives a restart.  Writing the list never follows a link an attacker
# prepared in state-dir.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
PIN=$(key_pin)
hosts_entry 127.0.0.1 www.inspect.test
mkdir "$T/state"
echo "precious" >"$T/victim"
ln -s "$T/victim" "$T/state/learned-no-inspect.tmp"
cat >"$T/run.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
pinning-learn on
log-level info
state-dir $T/state
allow all
EOF
pinhole_start <"$T/run.conf"
wait_admin
URL=https://www.inspect.test:$WEB/hello

# refuse [CURL ARGS]: a client trusting only the origin's CA refuses the
# minted certificate with the alert "unknown CA".
refuse() {
	pcurl --cacert "$T/ca.pem" "$@" "$URL" >/dev/null 2>"$T/refuse.curlerr"
	expect_eq 60 "$?" "a refusal of the minted certificate (exit 60; $(cat "$T/refuse.curlerr"))"
}

# A pinning client that just closes: not evidence.
pin_curl "$PIN" "$URL"
expect_eq 90 "$CURL_RC" "pinned fetch, inspected (exit 90 = pin mismatch; $CURL_ERR)"
error_log_matching "pinning: a client left the minted certificate for www\.inspect\.test .*not counted as evidence"
# One client, three alerts: not learned.
refuse
refuse
refuse
error_log_matching "pinning: a client refused the minted certificate for www\.inspect\.test with a certificate alert \(3 times, 1 client\)"
expect_no_match 'learned as certificate-pinned' "$(cat "$T/pinhole.err")" "error log after one client's alerts"
# A second client address: learned.
refuse --interface 127.0.0.2
error_log_matching "pinning: www\.inspect\.test learned as certificate-pinned after 4 certificate alerts from 2 clients"
expect_match '^www\.inspect\.test [0-9]+ [0-9]+ 4 2$' "$(cat "$T/state/learned-no-inspect" 2>&1)" "$T/state/learned-no-inspect"
expect_eq "precious" "$(cat "$T/victim")" "the file a link in state-dir pointed at"

# From now on: spliced, the origin's own certificate, the pin holds.
pin_curl "$PIN" "$URL"
expect_eq 0 "$CURL_RC" "pinned fetch after learning ($CURL_ERR)"
expect_eq "hello from the origin" "$BODY" "body of the pinned fetch"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inspect\.test:$WEB .* tls-spliced-learned$"

expect_admin 200 /config
expect_match '^# learned no-inspect www\.inspect\.test \(4 certificate alerts from 2 clients, first [0-9T:-]+Z, last [0-9T:-]+Z, expires [0-9T:-]+Z\)$' \
	"$BODY" "/config after learning"
expect_match '^pinning-learn on after 2 clients 2 expire 604800s$' "$BODY" "/config after learning"
report_finding 127.0.0.1 pinning-failure-observed

# A restart reads the list back from state-dir.
pinhole_stop
pinhole_start <"$T/run.conf"
wait_admin
pin_curl "$PIN" "$URL"
expect_eq 0 "$CURL_RC" "pinned fetch after a restart ($CURL_ERR)"
eventually 5 test "$(grep -c " CONNECT www\.inspect\.test:$WEB .* tls-spliced-learned$" "$ACCESS_LOG")" = 2 ||
	fail "expected two tunnels logged tls-spliced-learned:
$(cat "$ACCESS_LOG")"
expect_admin 200 /config
expect_match '^# learned no-inspect www\.inspect\.test \(4 certificate alerts from 2 clients' "$BODY" "/config after the restart"
pinhole_stop

# The error log names where the list is kept, in balanced parentheses.
error_log_matching "pinning: www\.inspect\.test learned as certificate-pinned .*\(kept in $T/state\)"
# Each failed attempt is logged as the CONNECT it was: no access-log line
# without a method and URL.
no_log_line_matching '^[0-9.]+ +[0-9]+ [^ ]+ [A-Z_]+/[0-9]+ [0-9]+ - '
