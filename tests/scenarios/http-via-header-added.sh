#!/bin/sh
# pinhole adds itself to the Via header of forwarded requests
# ("Via: 1.1 pinhole"), after any Via the client already sent.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/echo"
expect_match '^via: 1\.1 [^ ]*pinhole' "$(echo_headers)" "Via the origin received"

# Via values in order, whether sent as one header or several.
expect_status 200 -H 'Via: 1.0 branch-proxy' "http://www.origin.test:$WEB/echo"
via=$(echo_headers | sed -n 's/^via: //p' | paste -sd, -)
expect_match '^1\.0 branch-proxy, *1\.1 [^ ]*pinhole' "$via" "Via chain the origin received"
pinhole_stop
