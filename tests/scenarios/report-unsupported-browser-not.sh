#!/bin/sh
# Today's browsers are supported [CMS]: Chrome 131 on Windows, Firefox ESR
# 128 on Linux and Safari 17 on an iPhone each make a request and are listed
# in /report.json with their browser and OS, "ok", without
# unsupported-browser; curl, which is no browser, is not judged either.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "http://www.origin.test:$WEB/hello"
expect_status 200 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" "http://www.origin.test:$WEB/hello"
expect_status 200 --interface 127.0.0.4 -A "$UA_SAFARI_IPHONE" "http://www.origin.test:$WEB/hello"
expect_status 200 --interface 127.0.0.5 "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.5 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

check() {
	report_no_finding "$1" unsupported-browser
	report_client "$1"
	expect_eq "$2" "$C_BROWSER/$C_OS" "browser/OS of $1"
	expect_eq ok "$C_VERDICT" "verdict of $1 (findings: $C_RULES)"
}
check 127.0.0.2 "Chrome 131/Windows"
check 127.0.0.3 "Firefox 128/Linux"
check 127.0.0.4 "Safari 17/iOS"
check 127.0.0.5 "curl $(curl -V | sed -n '1s/^curl \([0-9]*\).*/\1/p')/other"
pinhole_stop
