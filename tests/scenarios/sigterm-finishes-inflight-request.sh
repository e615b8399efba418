#!/bin/sh
# A request in progress when SIGTERM arrives (a slow origin) still gets its
# full answer before pinhole exits 0.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
timeout drain 10s
allow all
EOF

spawn slowcurl curl -q -sS --max-time 15 -x "$PROXY" "http://www.origin.test:$WEB/slow?s=2"
slowcurl=$SPAWNED_PID
eventually 5 grep -qs 'GET /slow' "$T/WEB.requests" || fail "the slow request did not reach the origin"
kill -TERM "$PH_PID"
wait_pid "$slowcurl"
expect_eq 0 "$WAIT_RC" "curl's exit status for the request in flight at SIGTERM"
expect_eq "slow answer" "$(cat "$T/slowcurl.out")" "answer to the request in flight"
wait_gone "$PH_PID" 5 || fail "pinhole still runs 5 s after its last request ended"
reap "$PH_PID"
expect_eq 0 "$WAIT_RC" "pinhole's exit status"
