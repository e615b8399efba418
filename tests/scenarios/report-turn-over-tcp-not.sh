#!/bin/sh
# Only STUN in a tunnel is TURN over TCP: a Chrome client whose CONNECT
# tunnels carry TLS (https) and plain HTTP has no turn-over-tcp finding, and
# /report.json says "ok".
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_tls_origin TLS turn.example.test
start_origin WEB http
hosts_entry 127.0.0.1 turn.example.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem" "https://turn.example.test:$TLS/hello"
expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" -p "http://turn.example.test:$WEB/hello"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$TLS .* tls"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT turn\.example\.test:$WEB .* http"
report_wait_requests 127.0.0.2 2
report_no_finding 127.0.0.2 turn-over-tcp
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
pinhole_stop
