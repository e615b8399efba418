#!/bin/sh
# On SIGTERM pinhole stops accepting new connections but lets an open tunnel
# finish (within `timeout drain`), then exits 0 as soon as it has closed.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
timeout drain 15s
allow dst-local
allow all
EOF

RAWCLIENT_TIMEOUT=20 raw_bg tunnel \
	send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	send 'before' expect '^before$' \
	touch "$T/tunnel.open" wait-file "$T/draining" \
	send 'during drain' expect '^during drain$' \
	shut expect '^EOF after 18 bytes\n$' eof
tunnel=$SPAWNED_PID
wait_file "$T/tunnel.open"

kill -TERM "$PH_PID"
sleep 1
alive "$PH_PID" || fail "pinhole exited at SIGTERM although a tunnel was open (timeout drain 15s)"
code=$(curl -q -s --max-time 3 -o /dev/null -w '%{http_code}' -x "$PROXY" "http://www.origin.test:$WEB/hello")
[ "$code" != 200 ] || fail "a new connection was served during the drain"
expect_eq 0 "$(origin_count WEB)" "requests the origin received during the drain"

touch "$T/draining"
wait_pid "$tunnel"
[ "$WAIT_RC" = 0 ] || { cat "$T/tunnel.err" >&2; fail "the tunnel broke during the drain (see above)"; }
wait_gone "$PH_PID" 5 || fail "pinhole still runs 5 s after its last tunnel closed"
reap "$PH_PID"
expect_eq 0 "$WAIT_RC" "pinhole's exit status after draining"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO "
