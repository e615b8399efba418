#!/bin/sh
# A ws:// WebSocket from a page loaded through pinhole: Chromium and Firefox
# do not forward its Upgrade request to the proxy, they open a CONNECT
# tunnel to the origin and speak the Upgrade inside it (the access log shows
# a CONNECT whose first bytes are HTTP).  So the WebSocket echoes with or
# without `quirk no-websocket` (which refuses forwarded Upgrade requests),
# and the report never says websocket-blocked for these browsers.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
for B in $(browsers); do
	for quirk in "" no-websocket; do
		browser_run
		pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
${quirk:+quirk $quirk}
allow all
EOF
		wait_admin
		drive "$B" --proxy "127.0.0.1:$PH_PORT" "page=http://www.origin.test:$WEB/hello" \
			"ws=ws://www.origin.test:$WEB/ws"
		record 1 what=websocket scheme=none inspection=off url=ws quirk="$quirk"
		expect_step_ok 0 "the page"
		expect_step_ok 1 "the ws:// WebSocket${quirk:+ behind quirk $quirk}"
		log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$WEB - HIER_DIRECT/127\.0\.0\.1 http$"
		no_log_line_matching " GET http://www\.origin\.test:$WEB/ws "
		report_no_finding 127.0.0.1 websocket-blocked ""
		pinhole_stop
	done
done
