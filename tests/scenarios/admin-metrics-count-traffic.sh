#!/bin/sh
# /metrics adds up every worker's counters: after 3 forwarded requests and 1
# denied by a rule it shows 3 HTTP requests, 3 2xx, one 403 and one denial
# for reason "rule".
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test denied.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
workers 2
access-log $T/access.log squid
hosts-file $T/hosts
deny domain denied.origin.test
allow all
EOF
wait_admin

expect_admin 200 /metrics
expect_match '^pinhole_http_requests_total 0$' "$BODY" "/metrics before any traffic"
for i in 1 2 3; do
	expect_status 200 "http://www.origin.test:$WEB/hello"
done
expect_status 403 "http://denied.origin.test:$WEB/hello"

# Counters are published when a transaction ends, just after its log line.
counted() {
	admin_get /metrics
	grep -qx 'pinhole_http_requests_total 3' <<<"$BODY" &&
		grep -qx 'pinhole_denials_total{reason="rule"} 1' <<<"$BODY"
}
eventually 5 counted || fail "/metrics does not count 3 requests and 1 denial:
$BODY"
expect_match '^pinhole_denials_total\{reason="no-rule"\} 0$' "$BODY" "/metrics"
expect_match '^pinhole_responses_total\{class="2xx"\} 3$' "$BODY" "/metrics"
expect_match '^pinhole_responses_by_code_total\{code="403"\} 1$' "$BODY" "/metrics"
expect_match '^pinhole_connections_total [4-9]$' "$BODY" "/metrics (curl opens one connection per request)"
expect_match '^pinhole_workers 2$' "$BODY" "/metrics"
expect_match '^pinhole_client_sent_bytes_total [1-9][0-9]*$' "$BODY" "/metrics"
pinhole_stop
