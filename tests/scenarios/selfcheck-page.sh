#!/bin/sh
# http://pinhole.check/ through the proxy is answered by pinhole itself,
# never forwarded: a page saying who the client is to the proxy (address,
# user and scheme), what each video service in use would get from it, and
# the checks it runs in the browser (the TURN servers with test
# credentials); the WebSocket echo the page opens, through a CONNECT to
# port 80 as browsers do and as a plain upgrade; the results the page posts
# back, kept for the client's row of /report.json and the dashboard.  The
# test password never appears in /config.  `self-check off` forwards the
# name like any other; another name can be configured.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test pinhole.check
cat >"$T/base.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
preset tokbox
turn-server turn.office.test:3478 credentials turnuser Tp-9f3k
turn-server turn2.office.test
allow all
EOF
pinhole_start <"$T/base.conf"
wait_admin

# The page needs the proxy's login like any page, and says who you are.
expect_status 407 http://pinhole.check/
expect_status 200 -U alice:secret -A "SelfCheckTest/1.0" http://pinhole.check/
expect_match '^content-type: text/html; charset=utf-8$' "$(tr 'A-Z' 'a-z' <<<"$HEADERS")" "the page's type"
expect_match "^content-security-policy: default-src 'none'; script-src 'sha256-" "$(tr 'A-Z' 'a-z' <<<"$HEADERS")" \
	"the page's policy: its own script only"
expect_match 'you are <b>alice</b>, by Basic' "$BODY" "the page names the user and the scheme"
expect_match 'SelfCheckTest/1\.0' "$BODY" "the page names the browser"
expect_match 'TokBox' "$BODY" "the page judges the preset's vendor"
expect_match 'A call through TURN server turn\.office\.test:3478' "$BODY" "the TURN server with credentials is checked"
expect_no_match 'A call through TURN server turn2' "$BODY" "a TURN server without credentials is not"
expect_match '"echo":"ws://pinhole\.check/echo"' "$BODY" "the echo's URL for the script"
expect_match '"user":"turnuser","password":"Tp-9f3k"' "$BODY" "the test credentials for the script"
expect_no_match "$T/" "$BODY" "the page names configuration files without the admin's directories"
expect_match 'turn-server at pinhole\.conf:[0-9]+' "$BODY" "the page names the line by its file's name"
# Judged for this browser: Chromium never answers a 407 on its TURN
# connection, Firefox does.
expect_status 200 -U alice:secret -A "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36" http://pinhole.check/
expect_match 'degraded</td><td>CONNECT turn\.office\.test:3478 needs proxy authentication: Chromium never answers' "$BODY" \
	"a Chromium is told its calls need the login first"
expect_status 200 -U alice:secret -A "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0" http://pinhole.check/
expect_match 'ok</td><td>CONNECT turn\.office\.test:3478 needs proxy authentication: Firefox answers the 407' "$BODY" \
	"a Firefox is told it answers the 407"
[ "$(origin_count WEB)" = 0 ] || fail "a self-check request reached an origin"
log_line_matching " NONE_NONE/200 [0-9]+ GET http://pinhole\.check/ alice HIER_NONE/- text/html$"

# The WebSocket echo, the way browsers open ws:// through a proxy: a CONNECT
# to port 80, then the upgrade inside; a text frame comes back as it went.
auth=$(printf 'alice:secret' | base64)
raw send "CONNECT pinhole.check:80 HTTP/1.1\r\nHost: pinhole.check:80\r\nProxy-Authorization: Basic $auth\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n\r\n' \
	send "GET /echo HTTP/1.1\r\nHost: pinhole.check\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
	expect '^HTTP/1\.1 101 Switching Protocols\r\n(.*\r\n)*Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n(.*\r\n)*\r\n' \
	ws-text "echo me through pinhole" \
	expect '^\x81\x17echo me through pinhole' \
	send '\x88\x82\x00\x00\x00\x00\x03\xe8' \
	expect '^\x88\x02\x03\xe8' \
	eof
# And as a plain upgrade to the absolute URI; a frame the RFC forbids
# (unmasked) ends it with close 1002.
raw send "GET http://pinhole.check/echo HTTP/1.1\r\nHost: pinhole.check\r\nProxy-Authorization: Basic $auth\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n" \
	expect '^HTTP/1\.1 101 ' \
	send '\x81\x02hi' \
	expect '\x88\x02\x03\xea' \
	eof
# A CONNECT to another port of the name is refused, clearly.
raw send "CONNECT pinhole.check:443 HTTP/1.1\r\nHost: pinhole.check:443\r\nProxy-Authorization: Basic $auth\r\n\r\n" \
	expect '^HTTP/1\.1 403 [^\r]*\r\n(.*\r\n)*\r\n.*served at http://pinhole\.check/ \(port 80\)' \
	eof

# The page's results, kept for the client and shown to the admin.
expect_status 204 -U alice:secret http://pinhole.check/result --data-urlencode websocket=ok \
	--data-urlencode "websocket_detail=a WebSocket through the proxy works" \
	--data-urlencode "turn=turn.office.test:3478 failed ICE candidate error 701"
expect_status 400 -U alice:secret http://pinhole.check/result --data 'websocket=maybe'
expect_match "websocket is ok or failed" "$BODY" "a malformed result is refused with its reason"
expect_admin 200 /report.json
sc=$("$PY" -c 'import json, sys
d = json.load(sys.stdin)
for c in d["clients"]:
    if c["user"] == "alice" and c["self_check"]:
        s = c["self_check"]
        print(s["auth"], s["websocket"], s["turn"][0]["server"], s["turn"][0]["result"], s["turn"][0]["detail"])' <<<"$BODY")
expect_eq "basic ok turn.office.test:3478 failed ICE candidate error 701" "$sc" "the self-check in /report.json"
expect_admin 200 /
expect_match 'call through turn\.office\.test:3478 failed \(ICE candidate error 701\)' "$BODY" "the dashboard's self-checks"
expect_admin 200 /config
expect_match '^turn-server turn\.office\.test:3478 credentials turnuser \(password not shown\)' "$BODY" "/config"
expect_no_match 'Tp-9f3k' "$BODY" "/config never shows the test password"
expect_match '^self-check pinhole\.check$' "$BODY" "/config"

# Off, the name is a name like any other (here, the hosts file's).
sed 's/^allow all$/self-check off\nallow all/' "$T/base.conf" >"$T/pinhole.conf"
pinhole_reload
expect_status 200 -U alice:secret "http://pinhole.check:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "self-check off: forwarded"
# Another name.
sed 's/^allow all$/self-check proxy-check.office.test\nallow all/' "$T/base.conf" >"$T/pinhole.conf"
pinhole_reload
expect_status 200 -U alice:secret http://proxy-check.office.test/
expect_match 'you are <b>alice</b>' "$BODY" "the page under another name"
pinhole_stop
