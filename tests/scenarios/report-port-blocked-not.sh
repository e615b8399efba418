#!/bin/sh
# With the report's `allow port 33434-33598` in the config, a Chrome client's
# TURN/TCP media to a Webex media address on 33434 goes through (STUN in the
# tunnel is answered): no port-blocked finding.  A denied CONNECT to port
# 8080 of a host of no vendor is no port-blocked finding either, though 8080
# lies in Webex's legacy media range.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

# 33434 on a loopback address of its own, so parallel runs do not meet.
MEDIA=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
start_stun STUN --bind "$MEDIA" --port 33434
hosts_entry 127.0.0.1 www.origin.test
hosts_entry "$MEDIA" media.webex.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow port 33434-33598
deny all
EOF
wait_admin

stun_client "media.webex.test:33434" --source 127.0.0.2 --ua "$UA_CHROME_WIN"
expect_match '^binding success mapped 127\.0\.0\.1:[0-9]+$' "$STUN_OUT" "STUN to the media address"
expect_status 403 --interface 127.0.0.2 -A "$UA_CHROME_WIN" -p "http://www.origin.test:8080/"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/403 [0-9]+ CONNECT www\.origin\.test:8080 "
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT media\.webex\.test:33434 "
report_wait_requests 127.0.0.2 2
report_no_finding 127.0.0.2 port-blocked
report_client 127.0.0.2
# TURN over TCP is still worse than UDP: degraded, not broken.
expect_eq degraded "$C_VERDICT" "verdict of the Chrome client"
expect_eq "turn-over-tcp" "$C_RULES" "findings of the Chrome client"
pinhole_stop
