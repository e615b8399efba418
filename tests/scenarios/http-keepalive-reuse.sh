#!/bin/sh
# Keep-alive on both sides: two requests on one client connection travel on
# one proxy connection and one origin connection (/conn answers the same id).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

ids=$(pcurl -v "http://www.origin.test:$WEB/conn" "http://www.origin.test:$WEB/conn" 2>"$T/curl.err")
expect_eq 2 "$(grep -c '^conn-[0-9]*$' <<<"$ids")" "answers from /conn (got: $ids)"
expect_match 'Re-using existing connection' "$(cat "$T/curl.err")" "curl's view of the client connection"
expect_eq 1 "$(sort -u <<<"$ids" | wc -l)" "distinct origin connections for two requests (ids: $(echo $ids))"

# The same over a raw connection, checking each answer's framing.
raw send "GET http://www.origin.test:$WEB/conn HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nconn-[0-9]+\n' \
	send "GET http://www.origin.test:$WEB/conn HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nconn-[0-9]+\n' \
	quiet 0.5
pinhole_stop
