#!/bin/sh
# When ocsp.godaddy.com answers through pinhole, a Chrome client's OCSP
# request is no ocsp-blocked finding: /report.json says "ok".
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_origin WEB http
hosts_entry 127.0.0.1 ocsp.godaddy.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow domain ocsp.godaddy.com crl.godaddy.com
deny all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "http://ocsp.godaddy.com:$WEB/hello"
log_line_matching " 127\.0\.0\.2 TCP_MISS/200 [0-9]+ GET http://ocsp\.godaddy\.com:$WEB/hello "
report_no_finding 127.0.0.2 ocsp-blocked
report_client 127.0.0.2
expect_eq ok "$C_VERDICT" "verdict of the Chrome client (findings: $C_RULES)"
pinhole_stop
