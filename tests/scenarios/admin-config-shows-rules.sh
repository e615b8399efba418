#!/bin/sh
# GET /config shows the running configuration as text: the rules from the
# file, each with its file:line, and the admin address itself.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
deny domain .blocked.test
allow all
EOF
wait_admin

expect_admin 200 /config
expect_match '^Content-Type: text/plain' "$HEADERS" "/config headers"
expect_match '^deny domain \.blocked\.test  # .*pinhole\.conf:4$' "$BODY" "/config"
expect_match '^allow all  # .*pinhole\.conf:5$' "$BODY" "/config"
expect_match "^admin 127\.0\.0\.1:$ADMIN\$" "$BODY" "/config"
pinhole_stop
