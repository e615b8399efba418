#!/bin/sh
# GET / is an HTML dashboard without scripts or outside assets: title
# "pinhole", the proxy's listen address, counters and links to the other
# pages, and the WebRTC report (none of its clients yet: it says so); /report
# and /report.json answer.  With chromium, it renders to a screenshot.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
allow all
EOF
wait_admin

expect_admin 200 /
expect_match '^Content-Type: text/html' "$HEADERS" "dashboard headers"
expect_match '<title>pinhole</title>' "$BODY" "dashboard"
expect_match "127\.0\.0\.1:$PH_PORT" "$BODY" "dashboard (the listen address)"
expect_match 'client connections accepted' "$BODY" "dashboard (counters)"
for link in /metrics /config /healthz /report; do
	expect_match "href=\"$link\"" "$BODY" "dashboard (link to $link)"
done
expect_no_match '<script|src=|<link' "$BODY" "dashboard (scripts and outside assets)"

expect_match '<h2>WebRTC report</h2>' "$BODY" "dashboard (the report's section)"
expect_admin 200 /report
expect_match '^Content-Type: text/html' "$HEADERS" "/report headers"
expect_match '<title>pinhole: WebRTC report</title>' "$BODY" "/report"
expect_admin 200 /report.json
expect_match '^Content-Type: application/json' "$HEADERS" "/report.json headers"
expect_match '"clients": ?\[\]' "$BODY" "/report.json with no client yet"

browser=$(command -v chromium || command -v chromium-browser)
if [ -n "$browser" ]; then
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
		--screenshot="$T/dash.png" --window-size=1000,800 "$ADMIN_URL/" >"$T/chromium.out" 2>&1
	size=$(stat -c %s "$T/dash.png" 2>/dev/null || echo 0)
	[ "$size" -gt 10000 ] || fail "chromium made no useful screenshot of the dashboard ($size bytes):
$(tail -n 20 "$T/chromium.out")"
	note "dashboard screenshot: $size bytes"
else
	note "no chromium: no screenshot of the dashboard (apt-get install chromium)"
fi
pinhole_stop
