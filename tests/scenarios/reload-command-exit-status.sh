#!/bin/sh
# `pinhole reload -c FILE` (the unit's ExecReload) asks the running pinhole
# (found through FILE's pid-file) to reload, and exits 0 once the new
# configuration is in force, or 1 with its FILE:LINE errors when it was
# refused, the old one staying.  /healthz (still 200), /metrics
# (pinhole_config_last_reload_successful) and the dashboard say when the
# last reload was refused.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
conf_text() {
	cat <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
pid-file $T/pinhole.pid
access-log $T/access.log squid
hosts-file $T/hosts
$1
allow all
EOF
}
write_conf() {
	conf_text "$1" >"$T/pinhole.conf"
}
pinhole_start < <(conf_text "# no deny yet")
wait_admin
expect_status 200 "http://www.origin.test:$WEB/hello"
started=$(admin_metric pinhole_config_last_reload_success_timestamp_seconds)
expect_match '^[0-9]+$' "$started" "pinhole_config_last_reload_success_timestamp_seconds at start"
expect_eq 1 "$(admin_metric pinhole_config_last_reload_successful)" "pinhole_config_last_reload_successful at start"

# A good change: exit 0, in force when the command returns.
write_conf "deny domain www.origin.test"
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status of pinhole reload with a good file (stderr: $ERR)"
expect_match "reloaded .*pinhole\.conf: the new configuration is in force" "$OUT" "pinhole reload's output"
expect_status 403 "http://www.origin.test:$WEB/hello"

# A broken file: exit 1, every error with its line, the old rules stay.
sleep 1
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
pid-file $T/pinhole.pid
access-log $T/nowhere/access.log squid
hosts-file $T/hosts
alow all
EOF
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole reload with a broken file"
expect_match "pinhole\.conf:4: cannot write the access log $T/nowhere/access\.log: the directory $T/nowhere does not exist" \
	"$ERR" "pinhole reload's errors"
expect_match "pinhole\.conf:6: unknown directive 'alow' \(did you mean 'allow'\?\)" "$ERR" "pinhole reload's errors"
expect_match "refused the new configuration; the one it had stays in force" "$ERR" "pinhole reload's errors"
expect_status 403 "http://www.origin.test:$WEB/hello"
expect_admin 200 /healthz
expect_match '^ok$' "$BODY" "/healthz after a refused reload"
expect_match "^the last reload, at [0-9T:-]+Z, was refused: .*pinhole\.conf:4: cannot write the access log" "$BODY" \
	"/healthz after a refused reload"
expect_eq 0 "$(admin_metric pinhole_config_last_reload_successful)" "pinhole_config_last_reload_successful after a refused reload"
expect_admin 200 /
expect_match 'refused</span>' "$BODY" "the dashboard after a refused reload"
expect_match 'pinhole\.conf:4: cannot write the access log' "$BODY" "the dashboard after a refused reload"

# Fixed: exit 0, and the record says so.
write_conf "# the deny is gone"
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status of pinhole reload after the fix (stderr: $ERR)"
expect_status 200 "http://www.origin.test:$WEB/hello"
expect_admin 200 /healthz
expect_eq ok "$BODY" "/healthz after a good reload"
expect_eq 1 "$(admin_metric pinhole_config_last_reload_successful)" "pinhole_config_last_reload_successful after the fix"
now=$(admin_metric pinhole_config_last_reload_success_timestamp_seconds)
[ "$now" -gt "$started" ] || fail "the success timestamp did not move ($started, then $now)"
admin_get /metrics
expect_match '^pinhole_config_reloads_total\{result="ok"\} 2$' "$BODY" "/metrics"
expect_match '^pinhole_config_reloads_total\{result="refused"\} 1$' "$BODY" "/metrics"

# Another file than the one running: refused before asking.
cp "$T/pinhole.conf" "$T/other.conf"
run_pinhole reload -c "$T/other.conf"
expect_eq 2 "$RC" "exit status of pinhole reload for another file"
expect_match "runs $T/pinhole\.conf, not $T/other\.conf" "$ERR" "pinhole reload for another file"

# No pid-file line: nothing to find the instance with.
grep -v '^pid-file' "$T/pinhole.conf" >"$T/nopid.conf"
run_pinhole reload -c "$T/nopid.conf"
expect_eq 2 "$RC" "exit status of pinhole reload without a pid-file"
expect_match "has no pid-file line" "$ERR" "pinhole reload without a pid-file"

# Nothing running.
pinhole_stop
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole reload with no pinhole running"
expect_match "no pid-file $T/pinhole\.pid" "$ERR" "pinhole reload with no pinhole running"
