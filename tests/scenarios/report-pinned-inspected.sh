#!/bin/sh
# The Webex app pins identity.webex.com [SPARK]: with `preset webex` and TLS
# inspection, a Chrome client reaching it is spliced and the report has no
# pinned-inspected finding; with `quirk inspect-all` the same CONNECT is
# inspected and /report.json says pinned-inspected, "breaks", for webex, with
# the advice `no-inspect identity.webex.com`.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/report.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

make_pinhole_ca
start_tls_origin WEB identity.webex.com
hosts_entry 127.0.0.1 identity.webex.com
write_conf() {
	cat >"$T/conf.in" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
preset webex
allow port $WEB
$1
EOF
}
URL=https://identity.webex.com:$WEB/hello

write_conf ""
pinhole_start <"$T/conf.in"
wait_admin
expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" --cacert "$T/ca.pem" "$URL"
log_line_matching " CONNECT identity\.webex\.com:$WEB .* tls-spliced-no-inspect$"
report_no_finding 127.0.0.2 pinned-inspected
pinhole_stop

write_conf "quirk inspect-all"
pinhole_start <"$T/conf.in"
wait_admin
expect_status 200 --interface 127.0.0.3 -A "$UA_CHROME_WIN" --cacert "$PCA_CRT" "$URL"
log_line_matching " CONNECT identity\.webex\.com:$WEB .* tls-inspected$"
report_finding 127.0.0.3 pinned-inspected
expect_eq breaks "$F_SEVERITY" "severity of pinned-inspected"
expect_eq breaks "$F_VERDICT" "verdict of the client"
expect_eq webex "$F_VENDORS" "vendors of pinned-inspected"
expect_eq SPARK "$F_SOURCE" "source of pinned-inspected"
expect_match "identity\.webex\.com" "$F_EVIDENCE" "evidence of pinned-inspected"
expect_match "^no-inspect identity\.webex\.com" "$F_ADVICE" "advice of pinned-inspected"
pinhole_stop
