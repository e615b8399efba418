#!/bin/sh
# `deny method POST` refuses POST requests with 403 while GET and CONNECT
# pass the next rule.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny method POST
allow all
EOF

expect_status 403 -d 'a=1' "http://www.origin.test:$WEB/echo"
expect_match 'pinhole\.conf:4' "$BODY" "403 body naming the rule"
expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 200 -p "http://www.origin.test:$WEB/hello"
expect_status 200 -X PUT -d 'a=1' "http://www.origin.test:$WEB/echo"
expect_no_match ' POST /echo' "$(cat "$T/WEB.requests")" "requests the origin received"
log_line_matching " TCP_DENIED/403 [0-9]+ POST http://www\.origin\.test:$WEB/echo "
pinhole_stop
