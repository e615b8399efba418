#!/bin/sh
# GET /metrics is Prometheus text format 0.0.4 that `promtool check metrics`
# accepts without a word, before and after traffic (histogram buckets,
# labelled counters), with the process metrics every exporter has
# (process_start_time_seconds, process_open_fds, process_max_fds,
# process_resident_memory_bytes, process_cpu_seconds_total) and the state of
# the configuration (pinhole_config_last_reload_successful, ..._success_timestamp_seconds).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

command -v promtool >/dev/null || skip "needs promtool (apt-get install prometheus)"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test denied.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
deny domain denied.origin.test
allow all
EOF
wait_admin

expect_admin 200 /metrics
expect_match '^Content-Type: text/plain; version=0\.0\.4' "$HEADERS" "/metrics headers"
promtool check metrics <"$T/admin.body" >"$T/promtool.out" 2>&1 && ! [ -s "$T/promtool.out" ] ||
	fail "promtool check metrics is not silent about /metrics before any traffic:
$(cat "$T/promtool.out")"
now=$(date +%s)
start=$(awk '$1 == "process_start_time_seconds" { print $2 }' <<<"$BODY")
[ -n "$start" ] && [ "$start" -le "$now" ] && [ "$start" -ge $((now - 60)) ] ||
	fail "process_start_time_seconds '$start' is not the start of a process that started within a minute (now $now)"
for m in process_open_fds process_max_fds process_resident_memory_bytes; do
	v=$(awk -v n="$m" '$1 == n { print $2 }' <<<"$BODY")
	[ -n "$v" ] && [ "$v" -gt 0 ] || fail "$m is '$v', not a positive number"
	expect_match "^# TYPE $m gauge$" "$BODY" "/metrics"
done
expect_match '^# TYPE process_cpu_seconds_total counter$' "$BODY" "/metrics"
expect_match '^process_cpu_seconds_total [0-9]+(\.[0-9]+)?$' "$BODY" "/metrics"
expect_match '^pinhole_config_last_reload_successful 1$' "$BODY" "/metrics"
expect_match "^pinhole_config_last_reload_success_timestamp_seconds $start\$" "$BODY" "/metrics (loaded at start)"
expect_no_match '_bytes_(received|sent)_total' "$BODY" "/metrics (unit before _total)"

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 403 "http://denied.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
expect_admin 200 /metrics
promtool check metrics <"$T/admin.body" >"$T/promtool.out" 2>&1 && ! [ -s "$T/promtool.out" ] ||
	fail "promtool check metrics is not silent about /metrics after traffic:
$(cat "$T/promtool.out")"
expect_match '^# TYPE pinhole_upstream_connect_seconds histogram$' "$BODY" "/metrics"
expect_match '^pinhole_upstream_connect_seconds_bucket\{le="\+Inf"\} [1-9]' "$BODY" "/metrics"
expect_match '^pinhole_upstream_connect_seconds_count [1-9]' "$BODY" "/metrics"
expect_match '^pinhole_build_info\{version="[^"]+"\} 1$' "$BODY" "/metrics"
pinhole_stop
