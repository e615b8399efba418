#!/bin/sh
# Only the Webex app on iOS is the ios-behind-proxy case: Safari on an iPhone
# and the Webex app on Windows, both reaching Webex through pinhole, have no
# such finding in /report.json ("ok").
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_tls_origin TLS idbroker.webex.com
hosts_entry 127.0.0.1 idbroker.webex.com
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_SAFARI_IPHONE" --cacert "$T/ca.pem" "https://idbroker.webex.com:$TLS/hello"
expect_status 200 --interface 127.0.0.3 -A "$UA_WEBEX_WIN" --cacert "$T/ca.pem" "https://idbroker.webex.com:$TLS/hello"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT idbroker\.webex\.com:$TLS "
log_line_matching " 127\.0\.0\.3 TCP_TUNNEL/200 [0-9]+ CONNECT idbroker\.webex\.com:$TLS "
for c in 127.0.0.2 127.0.0.3; do
	report_no_finding "$c" ios-behind-proxy
	report_client "$c"
	expect_eq ok "$C_VERDICT" "verdict of $c ($C_BROWSER/$C_OS; findings: $C_RULES)"
done
pinhole_stop
