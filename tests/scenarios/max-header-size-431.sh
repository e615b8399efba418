#!/bin/sh
# With `max-header-size 2k`, a request whose head is larger gets 431 and is
# not forwarded; a request under the limit is served.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
max-header-size 2k
allow all
EOF

big=$(printf 'a%.0s' $(seq 5000))
expect_status 431 -H "X-Big: $big" "http://www.origin.test:$WEB/hello"
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
log_line_matching "/431 "

small=$(printf 'a%.0s' $(seq 1000))
expect_status 200 -H "X-Small: $small" "http://www.origin.test:$WEB/hello"
pinhole_stop
