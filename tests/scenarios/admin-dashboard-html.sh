#!/bin/sh
# GET / is an HTML dashboard without outside assets and with one inline
# script (the live rates), which its Content-Security-Policy allows by hash
# and no other: title "pinhole", uptime, the last reload, the rates, the
# proxy's listen address, counters and links to the other pages, and the
# WebRTC report (none of its clients yet: it says so); /report and
# /report.json answer.  With chromium, it renders to a screenshot.
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
for link in /metrics /config /healthz /stats.json /report; do
	expect_match "href=\"$link\"" "$BODY" "dashboard (link to $link)"
done
expect_match 'up for' "$BODY" "dashboard (uptime)"
expect_match 'last reload</th><td>none since start-up' "$BODY" "dashboard (the last reload)"
expect_match 'data-k="rates.requests"' "$BODY" "dashboard (the request rate)"
expect_no_match 'src=|<link' "$BODY" "dashboard (outside assets)"
expect_eq 1 "$(grep -o '<script' "$T/admin.body" | wc -l)" "inline scripts on the dashboard"
# The policy names the script's SHA-256 and allows nothing else.
hash=$(sed -n '/<script>/,/<\/script>/p' "$T/admin.body" | sed -e 's/.*<script>//' -e 's/<\/script>.*//' |
	head -c -1 | openssl dgst -sha256 -binary | openssl base64 -A)
csp=$(grep -i '^Content-Security-Policy:' <<<"$HEADERS")
expect_match "script-src 'sha256-$hash';" "$csp" "the dashboard's Content-Security-Policy (script hash $hash)"
expect_no_match "script-src[^;]*unsafe" "$csp" "the script policy"

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
