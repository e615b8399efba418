#!/bin/sh
# An unknown admin path is a 404 in text/plain naming the path (control
# bytes escaped); a method other than GET, HEAD or POST is a 405.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
allow all
EOF
wait_admin

expect_admin 404 /no/such/page
expect_match '^Content-Type: text/plain' "$HEADERS" "404 headers"
expect_match '/no/such/page' "$BODY" "404 body"
expect_admin 404 '/evil%0d%0aX-Injected:%20yes'
expect_match '/evil\\x0d\\x0aX-Injected: yes' "$BODY" "404 body with escaped control bytes"
expect_no_match '^X-Injected' "$HEADERS" "404 headers"
expect_admin 405 /healthz -X DELETE
expect_match '^Allow: GET, HEAD, POST$' "$HEADERS" "405 headers"
expect_admin 405 /metrics -X POST
expect_match '^Allow: GET, HEAD$' "$HEADERS" "405 headers"
pinhole_stop
