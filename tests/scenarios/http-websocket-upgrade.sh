#!/bin/sh
# A WebSocket handshake (GET with Upgrade: websocket) sent to pinhole in
# absolute form reaches the origin; after the origin's 101 the connection is
# a tunnel and frames flow both ways.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

# Key and accept value from RFC 6455 section 1.3.
raw send "GET http://www.origin.test:$WEB/ws HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
	expect '^HTTP/1\.1 101 [^\r]*\r\n(?=(?:[^\r]+\r\n)*(?i:upgrade): websocket\r\n)(?=(?:[^\r]+\r\n)*(?i:sec-websocket-accept): s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n)(?:[^\r]+\r\n)*\r\n' \
	ws-text 'hello through pinhole' \
	expect '^\x81\x15hello through pinhole' \
	ws-text 'a second frame' \
	expect '^\x81\x0ea second frame' \
	shut eof
origin_saw WEB '^conn-[0-9]+ GET /ws$'
log_line_matching " [A-Z_]+/101 [0-9]+ GET http://www\.origin\.test:$WEB/ws "
pinhole_stop
