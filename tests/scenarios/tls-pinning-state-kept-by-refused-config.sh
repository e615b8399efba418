#!/bin/sh
# Reading a configuration changes nothing until it is in force: `pinhole
# validate` leaves state-dir's list of learned pinned domains as it is (an
# expired entry included), and a reload that is refused (a new listen port
# another process holds) keeps the pinning evidence gathered so far, so a
# second client's certificate alert after it still completes the learning.
# A reload that is accepted applies the list's expiry.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
start_origin BUSY http
hosts_entry 127.0.0.1 www.inspect.test
mkdir "$T/state"
old=$(($(date +%s) - 30 * 86400))
printf '# kept by hand\nold.example.com %s %s 2 2\n' "$old" "$old" >"$T/state/learned-no-inspect"
cp "$T/state/learned-no-inspect" "$T/list.before"
config() {
	cat <<EOF
listen 127.0.0.1:$PH_PORT
$1
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
pinning-learn on expire 7d
log-level info
state-dir $T/state
allow all
EOF
}
config >"$T/run.conf"

run_pinhole validate -c "$T/run.conf"
expect_eq 0 "$RC" "pinhole validate ($ERR)"
cmp -s "$T/list.before" "$T/state/learned-no-inspect" ||
	fail "pinhole validate rewrote state-dir's list:
$(cat "$T/state/learned-no-inspect")"

pinhole_start <"$T/run.conf"
wait_admin
URL=https://www.inspect.test:$WEB/hello
refuse() {
	pcurl --cacert "$T/ca.pem" "$@" "$URL" >/dev/null 2>"$T/refuse.curlerr"
	expect_eq 60 "$?" "a refusal of the minted certificate (exit 60; $(cat "$T/refuse.curlerr"))"
}
refuse
error_log_matching "pinning: a client refused the minted certificate for www\.inspect\.test with a certificate alert \(1 time, 1 client\)"
# The running instance expired the old entry when it started.
expect_no_match '^old\.example\.com ' "$(cat "$T/state/learned-no-inspect")" "the list once pinhole runs"

# A reload refused after parsing: the port is held by another process.
config "listen 127.0.0.1:$BUSY" >"$T/pinhole.conf"
kill -HUP "$PH_PID"
eventually 10 grep -q "reload refused\|refused" "$T/pinhole.err" ||
	fail "the reload was not refused:
$(cat "$T/pinhole.err")"
config >"$T/pinhole.conf"
# The evidence from before the refused reload still counts.
refuse --interface 127.0.0.2
error_log_matching "pinning: www\.inspect\.test learned as certificate-pinned after 2 certificate alerts from 2 clients"
pinhole_stop
