#!/bin/sh
# An inspected TLS session is a keep-alive HTTP/1.1 connection: curl fetches
# two URLs over one connection to pinhole (one CONNECT, one origin session,
# two https:// lines in the access log), and a WebSocket upgrade inside an
# inspected session after an ordinary request reaches the origin, gets its
# 101 and echoes frames both ways.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
hosts_entry 127.0.0.1 www.inspect.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
allow all
EOF
BASE=https://www.inspect.test:$WEB

# Two requests, one connection: /conn answers the origin's connection id.
out=$(pcurl --cacert "$PCA_CRT" -w '%{num_connects}\n' -o "$T/body1" -o "$T/body2" \
	"$BASE/conn" "$BASE/conn" 2>"$T/curl.err") ||
	fail "curl of two URLs through the inspected session failed: $(cat "$T/curl.err")"
expect_eq "1
0" "$out" "curl's num_connects of the two transfers"
expect_match '^conn-[0-9]+$' "$(cat "$T/body1")" "first body"
expect_eq "$(cat "$T/body1")" "$(cat "$T/body2")" "origin connection of the two requests"
log_line_matching " CONNECT www\.inspect\.test:$WEB .* tls-inspected$"
expect_eq 1 "$(grep -c " CONNECT www\.inspect\.test:$WEB " "$ACCESS_LOG")" "CONNECT lines for the two requests"
eventually 5 test "$(grep -c " TCP_[A-Z_]*/200 [0-9]* GET $BASE/conn " "$ACCESS_LOG")" = 2 ||
	fail "expected two GET $BASE/conn lines in the access log:
$(cat "$ACCESS_LOG")"

# A request, then a WebSocket (key and accept from RFC 6455 section 1.3).
tls_raw "www.inspect.test:$WEB" \
	send "GET /hello HTTP/1.1\r\nHost: www.inspect.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n(?:[^\r]+\r\n)*\r\nhello from the origin\n' \
	send "GET /ws HTTP/1.1\r\nHost: www.inspect.test:$WEB\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
	expect '^HTTP/1\.1 101 [^\r]*\r\n(?=(?:[^\r]+\r\n)*(?i:upgrade): websocket\r\n)(?=(?:[^\r]+\r\n)*(?i:sec-websocket-accept): s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n)(?:[^\r]+\r\n)*\r\n' \
	ws-text 'hello through inspection' \
	expect '^\x81\x18hello through inspection' \
	ws-text 'a second frame' \
	expect '^\x81\x0ea second frame'
origin_saw WEB '^conn-[0-9]+ GET /ws$'
ws_conn=$(sed -n 's/^\(conn-[0-9]*\) GET \/ws$/\1/p' "$T/WEB.requests")
expect_match "^$ws_conn GET /hello$" "$(cat "$T/WEB.requests")" "origin connection of the request before the upgrade"
log_line_matching " [A-Z_]+/101 [0-9]+ GET $BASE/ws "
log_line_matching " TCP_[A-Z_]+/200 [0-9]+ GET $BASE/hello "
expect_eq 2 "$(grep -c " CONNECT www\.inspect\.test:$WEB .* tls-inspected$" "$ACCESS_LOG")" "inspected tunnels"
pinhole_stop
