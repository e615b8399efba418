#!/bin/sh
# Hop-by-hop request headers (Connection and the headers it lists,
# Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade when not upgrading) do
# not reach the origin; end-to-end headers do.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 \
	-H 'Connection: keep-alive, X-Client-Hop' \
	-H 'X-Client-Hop: must-not-reach-origin' \
	-H 'Keep-Alive: timeout=5' \
	-H 'Proxy-Connection: keep-alive' \
	-H 'TE: trailers' \
	-H 'Trailer: X-Checksum' \
	-H 'Upgrade: h2c' \
	-H 'X-End-To-End: kept' \
	"http://www.origin.test:$WEB/echo"
seen=$(echo_headers)
expect_match '^x-end-to-end: kept$' "$seen" "headers the origin received"
for h in x-client-hop keep-alive proxy-connection te trailer upgrade; do
	expect_no_match "^$h:" "$seen" "headers the origin received"
done
expect_no_match '^connection:.*(x-client-hop|upgrade)' "$(tr 'A-Z' 'a-z' <<<"$seen")" "Connection header the origin received"
pinhole_stop
