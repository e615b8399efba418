#!/bin/sh
# With `timeout header 1s`, a client that trickles its request head byte by
# byte (slow-loris) is disconnected about a second after it connected, even
# though it keeps sending.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
timeout header 1s
allow all
EOF

# 60 bytes at one per 0.2 s would take 12 s; pinhole must cut it short.
start=$(date +%s)
raw trickle "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaa" 0.2 \
	eof
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 5 ] || fail "the slow client was cut after ${elapsed}s with timeout header 1s"
expect_eq 0 "$(origin_count WEB)" "requests the origin received"

# A client sending its head at once is unaffected.
expect_status 200 "http://www.origin.test:$WEB/hello"
pinhole_stop
