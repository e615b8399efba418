#!/bin/sh
# With the report's allow lines for Webex and TokBox in the config (before
# `deny all`), a Chrome client's CONNECTs to x.webex.com:443 and
# api.opentok.com:443 reach the origin; the requests it still gets 403 for
# (a host of no vendor, and a Webex name on port 8080, which no vendor
# needs) are no domain-blocked finding, and /report.json says "ok".
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

# Port 443 on a loopback address of its own, so parallel runs do not meet.
ADDR=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
"$PY" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 443))' "$ADDR" 2>/dev/null ||
	skip "cannot bind $ADDR:443 (needs root or CAP_NET_BIND_SERVICE)"
make_leaf x.webex.com api.opentok.com
start_origin TLS http --cert "$T/leaf.pem" --key "$T/leaf.key" --bind "$ADDR" --port 443
start_origin WEB http
hosts_entry "$ADDR" x.webex.com api.opentok.com
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow domain .webex.com .wbx2.com .ciscospark.com .localytics.com .rackcdn.com .clouddrive.com port 443
allow domain .tokbox.com .opentok.com port 443
deny all
EOF
wait_admin

chrome=(--interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem")
expect_status 200 "${chrome[@]}" "https://x.webex.com/hello"
expect_eq "hello from the origin" "$BODY" "body from x.webex.com"
expect_status 200 "${chrome[@]}" "https://api.opentok.com/hello"
expect_status 403 "${chrome[@]}" "http://www.origin.test:$WEB/hello"
expect_status 403 "${chrome[@]}" "http://x.webex.com:8080/hello"
log_line_matching " 127\.0\.0\.2 TCP_DENIED/403 [0-9]+ GET http://x\.webex\.com:8080/hello "
report_wait_requests 127.0.0.2 4
report_no_finding 127.0.0.2 domain-blocked
report_no_finding 127.0.0.2 port-blocked
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
pinhole_stop
