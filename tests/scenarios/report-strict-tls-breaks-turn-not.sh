#!/bin/sh
# `quirk strict-tls` lets real TLS through: a Chrome client's https request
# through a CONNECT tunnel succeeds, and /report.json has no
# strict-tls-breaks-turn finding for it ("ok").
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
quirk strict-tls
allow all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the strict-tls tunnel"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS .* tls"
report_no_finding 127.0.0.2 strict-tls-breaks-turn
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
pinhole_stop
