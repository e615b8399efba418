#!/bin/sh
# Hop-by-hop response headers (the headers the origin's Connection lists,
# Keep-Alive, Proxy-Connection) do not reach the client; end-to-end headers
# do.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hop"
expect_eq "hello from the origin" "$BODY" "body"
expect_match '^X-Origin-End2End: kept$' "$HEADERS" "response headers"
expect_no_match '(?i)^(x-origin-hop|keep-alive|proxy-connection):' "$HEADERS" "response headers"
expect_no_match '^[Cc]onnection:.*X-Origin-Hop' "$HEADERS" "response headers"
pinhole_stop
