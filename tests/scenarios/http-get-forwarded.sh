#!/bin/sh
# A plain http:// GET sent to pinhole in absolute form reaches the origin in
# origin form and the origin's answer comes back unchanged; the access log
# records TCP_MISS/200 with the full URL.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
expect_match '^Content-Type: text/plain$' "$HEADERS" "response headers"
origin_saw WEB '^conn-[0-9]+ GET /hello$'
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
