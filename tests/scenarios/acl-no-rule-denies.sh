#!/bin/sh
# A request that no rule matches is denied: 403 whose body says no rule
# matched, for GET and CONNECT, and the access log shows TCP_DENIED/403.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test other.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow domain www.origin.test
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 403 "http://other.origin.test:$WEB/hello"
expect_match_i 'no rule' "$BODY" "403 body"
expect_match '^Content-Type: text/plain' "$HEADERS" "403 headers"
raw send "CONNECT other.origin.test:$WEB HTTP/1.1\r\nHost: other.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 403 [^\r]*\r\n' expect '\r\n\r\n.*(?i:no rule)'
log_line_matching " TCP_DENIED/403 [0-9]+ GET http://other\.origin\.test:$WEB/hello - HIER_NONE/- "
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT other\.origin\.test:$WEB - HIER_NONE/- "
expect_no_match 'other' "$(cat "$T/WEB.requests")" "requests the origin received"
pinhole_stop
