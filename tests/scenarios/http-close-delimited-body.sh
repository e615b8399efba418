#!/bin/sh
# An origin response without Content-Length, delimited by the origin closing
# (HTTP/1.1 with Connection: close), reaches the client complete.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/close"
expect_eq "$(printf 'hello from the origin\nbody delimited by close')" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/close "
pinhole_stop
