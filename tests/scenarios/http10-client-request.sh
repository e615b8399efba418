#!/bin/sh
# An HTTP/1.0 client (no keep-alive) is served: the answer comes back and
# the connection is closed after it.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 -0 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.0\r\n\r\n" \
	expect '^HTTP/1\.[01] 200 .*?\r\n\r\nhello from the origin\n' \
	eof
pinhole_stop
