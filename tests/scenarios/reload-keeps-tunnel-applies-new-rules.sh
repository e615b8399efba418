#!/bin/sh
# SIGHUP reloads the config: a tunnel opened before the reload keeps working
# after it, while the next request is judged by the new rules.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test echo.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

RAWCLIENT_TIMEOUT=20 raw_bg tunnel \
	send "CONNECT echo.origin.test:$ECHO HTTP/1.1\r\nHost: echo.origin.test:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	send 'before reload' expect '^before reload$' \
	touch "$T/tunnel.open" wait-file "$T/reloaded" \
	send 'after reload' expect '^after reload$' \
	shut expect '^EOF after 25 bytes\n$' eof
tunnel=$SPAWNED_PID
wait_file "$T/tunnel.open"
expect_status 200 "http://www.origin.test:$WEB/hello"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny domain .origin.test
allow all
EOF
pinhole_reload
touch "$T/reloaded"

wait_pid "$tunnel"
[ "$WAIT_RC" = 0 ] || { cat "$T/tunnel.err" >&2; fail "the tunnel opened before the reload broke (see above)"; }
expect_status 403 "http://www.origin.test:$WEB/hello"
expect_match 'pinhole\.conf:4' "$BODY" "403 body naming the new rule"
expect_status 403 -p "http://echo.origin.test:$ECHO/"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT echo\.origin\.test:$ECHO "
pinhole_stop
