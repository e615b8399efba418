#!/bin/sh
# GET / is an HTML dashboard without scripts or outside assets: title
# "pinhole", the proxy's listen address, counters and links to the other
# pages; /report is not there yet.  With chromium, it renders to a screenshot.
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

expect_admin 404 /report
expect_match 'not in this version' "$BODY" "/report"
expect_admin 404 /report.json
expect_match 'not in this version' "$BODY" "/report.json"

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
