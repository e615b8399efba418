#!/bin/sh
# With `timeout idle 1s`, a keep-alive client connection that stays idle
# after its request is closed by pinhole after about a second.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
timeout idle 1s
allow all
EOF

start=$(date +%s)
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\nhello from the origin\n' \
	eof
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 6 ] || fail "the idle client was closed after ${elapsed}s with timeout idle 1s"
pinhole_stop
