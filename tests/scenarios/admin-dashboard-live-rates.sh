#!/bin/sh
# The dashboard shows the rates of the last minute (HTTP requests,
# tunnels, bytes, 407 answers per second) as the page is served, and its
# one script refreshes them from /stats.json without reloading the page:
# in Chromium the page says when it was updated, and the values match what
# /stats.json says.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test echo.origin.test
echo secret | "$PINHOLE" passwd --basic alice >"$T/users" 2>/dev/null || fail "pinhole passwd failed"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users
allow all
EOF
wait_admin
sleep 2

for i in 1 2 3 4 5 6; do
	expect_status 200 -U alice:secret "http://www.origin.test:$WEB/hello"
done
for i in 1 2 3; do
	expect_status 407 "http://www.origin.test:$WEB/hello"
done
for i in 1 2; do
	raw send "CONNECT echo.origin.test:$ECHO HTTP/1.1\r\nHost: echo.origin.test:$ECHO\r\nProxy-Authorization: Basic $(printf alice:secret | base64)\r\n\r\n" \
		expect '^HTTP/1\.1 200 .*?\r\n\r\n' send ping expect '^ping$' shut eof
done

expect_admin 200 /stats.json
expect_match '^Content-Type: application/json' "$HEADERS" "/stats.json headers"
get() { "$PY" -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[k]
print(v)' "$BODY" "$1"; }
expect_eq True "$(get last_reload.ok)" "last_reload.ok"
[ "$(get uptime_s)" -ge 2 ] || fail "uptime_s is $(get uptime_s) after more than 2 s"
expect_eq 6 "$(get requests_total)" "requests_total"
expect_eq 2 "$(get tunnels_total)" "tunnels_total"
expect_eq 3 "$(get auth_required_total)" "auth_required_total"
"$PY" - "$BODY" <<'EOF' || fail "/stats.json rates: $BODY"
import json, sys
s = json.loads(sys.argv[1])
r = s["rates"]
w = r["window_s"]
assert 1 <= w <= 61, w
assert abs(r["requests"] * w - 6) < 0.2, r
assert abs(r["tunnels"] * w - 2) < 0.1, r
assert abs(r["auth_required"] * w - 3) < 0.1, r
assert r["received_bytes"] > 0 and r["sent_bytes"] > 0, r
EOF

# As served: the rates are on the page, no script needed to read them.
expect_admin 200 /
expect_match 'data-k="rates.requests" data-f="rate">[0-9]+\.[0-9]/s<' "$BODY" "the dashboard's request rate"
expect_match 'data-k="rates.auth_required" data-f="rate">[0-9]+\.[0-9]/s<' "$BODY" "the dashboard's 407 rate"
expect_match 'as of this page.s loading' "$BODY" "the dashboard before its script ran"

browser=$(command -v chromium || command -v chromium-browser) ||
	skip "needs chromium to run the dashboard's script (apt-get install chromium)"
# Basic credentials are not needed (no admin-auth); the page polls every
# 5 s, so 12 s of virtual time see two updates.
timeout 90 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
	--virtual-time-budget=12000 --dump-dom "$ADMIN_URL/" >"$T/dom.html" 2>"$T/chromium.err"
expect_match '<span id="live">updated [0-9]' "$(cat "$T/dom.html")" "the dashboard after its script ran (stderr: $(tail -n 5 "$T/chromium.err"))"
expect_match '<td data-k="tunnels_active" data-f="num">0</td>' "$(cat "$T/dom.html")" "open tunnels after the script ran"
expect_no_match '<span id="live">not updating' "$(cat "$T/dom.html")" "the dashboard after its script ran"
pinhole_stop
