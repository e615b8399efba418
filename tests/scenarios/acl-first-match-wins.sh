#!/bin/sh
# Rules are tried in order and the first that matches decides: an allow
# before a broader deny lets its host through; the deny catches the rest.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 a.origin.test b.origin.test elsewhere.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow domain a.origin.test
deny domain .origin.test
allow all
deny domain elsewhere.test
EOF

expect_status 200 "http://a.origin.test:$WEB/hello"
expect_status 403 "http://b.origin.test:$WEB/hello"
expect_match 'pinhole\.conf:5' "$BODY" "403 body naming the deciding rule"
expect_status 200 "http://elsewhere.test:$WEB/hello"
pinhole_stop
