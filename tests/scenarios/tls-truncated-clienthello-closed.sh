#!/bin/sh
# With TLS inspection on, pinhole waits for a tunnel's whole ClientHello, but
# not for ever: a client that sends part of one and closes is closed at
# once (not after `timeout tunnel-idle`), and one that sends part of one and
# stays silent is closed after `timeout header`.  Twenty such clients leave
# no connection open.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/admin.sh"

make_pinhole_ca
start_origin ECHO echo

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
timeout header 2s
allow dst-local
allow all
EOF

partial='\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
start=$(date +%s)
raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n\r\n' send "$partial" shut eof
[ $(($(date +%s) - start)) -le 1 ] || fail "a client that closed mid-ClientHello was held $(($(date +%s) - start)) s"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO "

start=$(date +%s)
raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n\r\n' send "$partial" eof
elapsed=$(($(date +%s) - start))
[ "$elapsed" -ge 1 ] && [ "$elapsed" -le 5 ] ||
	fail "a silent client with half a ClientHello was closed after ${elapsed} s (timeout header 2s)"

pids=()
start=$(date +%s)
for i in $(seq 20); do
	raw_bg "half$i" send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
		expect '^HTTP/1\.1 200 [^\r]*\r\n\r\n' send "$partial" shut eof
	pids+=("$SPAWNED_PID")
done
for pid in "${pids[@]}"; do
	wait_pid "$pid" 20
	expect_eq 0 "$WAIT_RC" "a client that closed mid-ClientHello saw the proxy close (see $T/half*.err)"
done
[ $(($(date +%s) - start)) -le 8 ] || fail "20 clients closing mid-ClientHello took $(($(date +%s) - start)) s to be closed"
eventually 5 test "$(admin_metric pinhole_connections_active)" = 0 ||
	fail "connections still open after 20 clients closed mid-ClientHello"
pinhole_stop
