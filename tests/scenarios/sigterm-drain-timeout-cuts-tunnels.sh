#!/bin/sh
# With `timeout drain 2s`, a tunnel still open 2 s after SIGTERM is cut and
# pinhole exits 0 (it does not wait for the client forever).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
timeout drain 2s
allow dst-local
allow all
EOF

RAWCLIENT_TIMEOUT=20 raw_bg tunnel \
	send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	touch "$T/tunnel.open" eof touch "$T/tunnel.cut"
wait_file "$T/tunnel.open"

start=$(date +%s)
pinhole_stop 8
elapsed=$(($(date +%s) - start))
[ "$elapsed" -ge 1 ] || fail "pinhole exited ${elapsed}s after SIGTERM, before the 2s drain was over"
wait_file "$T/tunnel.cut" 5
