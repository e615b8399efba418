#!/bin/sh
# When no parent of the line can be reached the client gets 502 naming
# every parent tried and why (504 when the last one timed out); while they
# are marked down, requests get 502 at once naming the line and its
# parents, and nothing is tried.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

hosts_entry 127.0.0.1 www.origin.test
CLOSED1=$(free_port)
CLOSED2=$(free_port)
start_origin HOLE blackhole
# The black hole must really swallow SYNs here, or this test proves nothing.
curl -q -s --connect-timeout 1 "http://127.0.0.1:$HOLE/" >/dev/null 2>&1
rc=$?
[ "$rc" = 28 ] || fail "the black hole on port $HOLE did not swallow a connection (curl exit $rc, expected 28)"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
timeout connect 1s
upstream-proxy http://127.0.0.1:$CLOSED1 http://127.0.0.1:$CLOSED2 domain www.origin.test
upstream-proxy http://127.0.0.1:$HOLE all
allow all
EOF
wait_admin

expect_status 502 "http://www.origin.test/hello"
expect_eq "No parent proxy could be reached: 127.0.0.1:$CLOSED1 (connection refused), 127.0.0.1:$CLOSED2 (connection refused)." \
	"$BODY" "502 body"
log_line_matching " TCP_MISS/502 [0-9]+ GET http://www\.origin\.test/hello - HIER_NONE/- "

raw send "CONNECT www.origin.test:443 HTTP/1.1\r\nHost: www.origin.test:443\r\n\r\n" \
	expect '^HTTP/1\.1 502 [^\r]*\r\n' \
	expect "Every parent proxy of [^ ]*pinhole\.conf:6 is down \(127\.0\.0\.1:$CLOSED1, 127\.0\.0\.1:$CLOSED2\)"
expect_admin 200 /metrics
expect_match "^pinhole_parent_failures_total\{parent=\"127\.0\.0\.1:$CLOSED1\",reason=\"refused\"\} 1$" "$BODY" "metrics"

# A parent that does not answer the TCP handshake: 504 after timeout connect.
expect_status 504 "http://other.origin.test/hello"
expect_eq "No parent proxy could be reached: 127.0.0.1:$HOLE (no connection within 1000 ms)." "$BODY" "504 body"
expect_admin 200 /metrics
expect_match "^pinhole_parent_failures_total\{parent=\"127\.0\.0\.1:$HOLE\",reason=\"timeout\"\} 1$" "$BODY" "metrics"
pinhole_stop
