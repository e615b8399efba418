#!/bin/sh
# With `quirk no-websocket`, a WebSocket handshake through pinhole does not
# get a 101: the upgrade is refused and the connection never becomes a
# tunnel.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
quirk no-websocket
allow all
EOF

raw send "GET http://www.origin.test:$WEB/ws HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
	expect '^HTTP/1\.1 (?!101)[1-5][0-9][0-9] ' \
	reject '(?i)sec-websocket-accept'
no_log_line_matching '/101 '
pinhole_stop
