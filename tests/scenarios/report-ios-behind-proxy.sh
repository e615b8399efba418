#!/bin/sh
# The Webex app on an iPhone or iPad cannot be used behind a proxy [SPARK]:
# once it has opened a CONNECT to Webex through pinhole, /report.json lists
# it as "Webex app" on iOS, "breaks", with ios-behind-proxy quoting its
# User-Agent and advising a way around the proxy (no pinhole setting fixes
# it).
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

expect_status 200 --interface 127.0.0.2 -A "$UA_WEBEX_IOS" --cacert "$T/ca.pem" "https://idbroker.webex.com:$TLS/hello"
log_line_matching " 127\.0\.0\.2 TCP_TUNNEL/200 [0-9]+ CONNECT idbroker\.webex\.com:$TLS "
report_finding 127.0.0.2 ios-behind-proxy
expect_eq breaks "$F_SEVERITY" "severity of ios-behind-proxy"
expect_eq breaks "$F_VERDICT" "verdict of the Webex app on iOS"
expect_eq webex "$F_VENDORS" "vendors of ios-behind-proxy"
expect_eq SPARK "$F_SOURCE" "source of ios-behind-proxy"
expect_eq "Webex app on an iPhone/iPad (User-Agent $UA_WEBEX_IOS)" "$F_EVIDENCE" "evidence of ios-behind-proxy"
expect_eq "let iPhones and iPads reach Webex without the proxy (e.g. a guest Wi-Fi); this is not a pinhole setting" \
	"$F_ADVICE" "advice of ios-behind-proxy"
report_client 127.0.0.2
expect_eq "Webex app/iOS" "$C_BROWSER/$C_OS" "browser/OS of the Webex app on iOS"
pinhole_stop
