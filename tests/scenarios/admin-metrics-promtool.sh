#!/bin/sh
# GET /metrics is Prometheus text format 0.0.4 that `promtool check metrics`
# accepts, before and after traffic (histogram buckets, labelled counters).
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
promtool check metrics <"$T/admin.body" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics refused /metrics before any traffic:
$(cat "$T/promtool.out")"

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 403 "http://denied.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
expect_admin 200 /metrics
promtool check metrics <"$T/admin.body" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics refused /metrics after traffic:
$(cat "$T/promtool.out")"
expect_match '^# TYPE pinhole_upstream_connect_seconds histogram$' "$BODY" "/metrics"
expect_match '^pinhole_upstream_connect_seconds_bucket\{le="\+Inf"\} [1-9]' "$BODY" "/metrics"
expect_match '^pinhole_upstream_connect_seconds_count [1-9]' "$BODY" "/metrics"
expect_match '^pinhole_build_info\{version="[^"]+"\} 1$' "$BODY" "/metrics"
pinhole_stop
