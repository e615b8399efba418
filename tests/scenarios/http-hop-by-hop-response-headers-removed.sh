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
lower=$(tr 'A-Z' 'a-z' <<<"$HEADERS")
expect_no_match '^(x-origin-hop|proxy-connection):' "$lower" "response headers"
expect_no_match '^keep-alive:.*max=77' "$lower" "response headers (the origin's Keep-Alive)"
expect_no_match '^connection:.*x-origin-hop' "$lower" "response headers"
pinhole_stop
