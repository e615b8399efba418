#!/bin/sh
# Two parents on one line, the first one down (nothing listens on its
# port): requests go to the second, the first is marked down (a warning in
# the error log, pinhole_parent_up 0, a failure counted as refused) and
# left alone for retry-after; once it listens again and that time is over,
# requests go to it again (logged as up again, pinhole_parent_up 1).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
FIRST=$(free_port)
SECOND=$(free_port)
parent_pinhole_start SECOND <<EOF
listen 127.0.0.1:$SECOND
access-log $T/second-access.log squid
hosts-file $T/hosts
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
upstream-proxy http://127.0.0.1:$FIRST http://127.0.0.1:$SECOND retry-after 3s
allow all
EOF
wait_admin

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through the second parent"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_DIRECT/" "$T/second-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - FIRSTUP_PARENT/127\.0\.0\.1 "
eventually 5 grep -q "parent proxy 127\.0\.0\.1:$FIRST is down (connection refused)" "$T/error.log" ||
	fail "no warning that the first parent is down: $(cat "$T/error.log")"
expect_admin 200 /metrics
expect_match "^pinhole_parent_up\{parent=\"127\.0\.0\.1:$FIRST\"\} 0$" "$BODY" "metrics"
expect_match "^pinhole_parent_up\{parent=\"127\.0\.0\.1:$SECOND\"\} 1$" "$BODY" "metrics"
expect_match "^pinhole_parent_failures_total\{parent=\"127\.0\.0\.1:$FIRST\",reason=\"refused\"\} 1$" "$BODY" "metrics"
expect_match "^pinhole_parent_requests_total\{parent=\"127\.0\.0\.1:$SECOND\"\} 1$" "$BODY" "metrics"

# While it is down the first parent is not tried: no second failure.
expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS - HIER_DIRECT/" "$T/second-access.log"
expect_admin 200 /metrics
expect_match "^pinhole_parent_failures_total\{parent=\"127\.0\.0\.1:$FIRST\",reason=\"refused\"\} 1$" "$BODY" "metrics"
expect_eq 1 "$(grep -c 'is down' "$T/error.log")" "warnings that a parent is down"

# The first parent comes back; after retry-after it has the requests again.
parent_pinhole_start FIRST <<EOF
listen 127.0.0.1:$FIRST
access-log $T/first-access.log squid
hosts-file $T/hosts
allow all
EOF
sleep 3.2
expect_status 200 "http://www.origin.test:$WEB/hello?back"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?back - HIER_DIRECT/" "$T/first-access.log"
eventually 5 grep -q "parent proxy 127\.0\.0\.1:$FIRST is up again" "$T/error.log" ||
	fail "no notice that the first parent is up again: $(cat "$T/error.log")"
expect_admin 200 /metrics
expect_match "^pinhole_parent_up\{parent=\"127\.0\.0\.1:$FIRST\"\} 1$" "$BODY" "metrics"
pinhole_stop
