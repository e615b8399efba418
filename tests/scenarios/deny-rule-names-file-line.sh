#!/bin/sh
# A 403 names the rule that denied the request as FILE:LINE, also when the
# rule sits in an included file, so an admin can find it at once.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test blocked.test also-blocked.test
cat >"$T/office-rules.conf" <<EOF
# rules kept by the office admin
deny domain also-blocked.test
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny domain blocked.test
include office-rules.conf
allow all
EOF

expect_status 403 "http://blocked.test:$WEB/hello"
expect_match_i 'denied' "$BODY" "403 body"
expect_match 'pinhole\.conf:4' "$BODY" "403 body"
expect_match '^Content-Type: text/plain' "$HEADERS" "403 headers"
raw send "CONNECT blocked.test:443 HTTP/1.1\r\nHost: blocked.test:443\r\n\r\n" \
	expect '^HTTP/1\.1 403 [^\r]*\r\n' expect '\r\n\r\n.*pinhole\.conf:4'

expect_status 403 "http://also-blocked.test:$WEB/hello"
expect_match 'office-rules\.conf:2' "$BODY" "403 body for a rule in an included file"

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_no_match 'blocked' "$(cat "$T/WEB.requests")" "requests the origin received"
log_line_matching " TCP_DENIED/403 [0-9]+ GET http://blocked\.test:$WEB/hello "
pinhole_stop
