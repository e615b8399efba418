#!/bin/sh
# pinhole's self-check page (http://pinhole.check/) in Chromium and Firefox
# behind Basic authentication, with a vendor preset and a turn-server line
# whose test credentials are coturn's: the browser, given the user's proxy
# credentials, loads the page and runs its checks; the page names the user
# and the scheme, its WebSocket through the proxy (a CONNECT to
# pinhole.check:80 and the upgrade inside it, answered by pinhole's echo)
# works, and so does its call through the TURN server (two relay-only peer
# connections over TURN/TCP inside CONNECT tunnels through pinhole).  The
# results the page posts back are in the client's row of /report.json
# (self_check) and on the dashboard, and the page's console has no error
# (its policy refused nothing).  With wrong test credentials on the
# turn-server line the page says, in words, that the TURN server refused
# them, the report says failed, and the WebSocket check still works.
# Chromium gets the proxy credentials from playwright (its proxy username
# and password), Firefox from page.authenticate; both send them on the
# WebSocket's and the TURN server's CONNECT without a 407.  WebRTC runs as
# drive.mjs sets it up: Chromium with UDP outside the proxy forbidden,
# Firefox with a manual proxy, so media can only be TURN/TCP through
# pinhole.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_coturn TURN turnuser turnpass
hosts_entry 127.0.0.1 turn.pinhole.test
re_turn="turn\.pinhole\.test:$TURN"

# check ID FIELD: the class or text of one of the page's checks (its result
# cell: ws, turn0...) in the last drive.
check() {
	"$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
for c in (d["steps"][0].get("checks") or []):
    if c.get("id") == sys.argv[2]:
        print(c.get(sys.argv[3]) or "")' "$DRIVE" "$1" "$2"
}

# self_check: what /report.json says of the self-check of 127.0.0.1/alice,
# as "WEBSOCKET SERVER RESULT" ("none" while there is no such row).
self_check() {
	admin_get /report.json
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
out = "none"
for c in d.get("clients", []):
    if c.get("client") == "127.0.0.1" and c.get("user") == "alice" and c.get("self_check"):
        s = c["self_check"]
        out = " ".join([str(s.get("websocket"))] + ["%s %s" % (t.get("server"), t.get("result")) for t in s.get("turn", [])])
print(out)' <<<"$BODY"
}

for B in $(browsers); do
	for cred in right wrong; do
		browser_run
		turnpass=turnpass
		[ "$cred" = right ] || turnpass=wrongpass
		pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
preset tokbox
turn-server turn.pinhole.test:$TURN credentials turnuser $turnpass
allow all
EOF
		wait_admin
		# The page ends its checks within 10 s (WebSocket) + 15 s (each
		# TURN server); 30 s is the wait for its completion marker.
		drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret --timeout 30 \
			"selfcheck=http://pinhole.check/"
		record 0 what=self-check scheme=basic inspection=off credentials="right, turn-server $cred"
		expect_step_ok 0 "the self-check page (loaded, its checks over) with turn-server credentials $cred"
		page=$(dv steps.0.text)
		# What the proxy knows of the user.
		expect_match 'Your address[[:space:]]+127\.0\.0\.1$' "$page" "the self-check page in $B"
		expect_match 'you are alice, by Basic ' "$page" "the self-check page in $B"
		expect_match 'TokBox' "$page" "the self-check page in $B (the preset's vendor judged)"
		# The WebSocket check.
		expect_match 'WebSocket through the proxy[[:space:]]+a WebSocket through the proxy works \(opened, echoed, closed\)$' \
			"$page" "the WebSocket line of the self-check page in $B"
		expect_eq ok "$(check ws class)" "the WebSocket check's class in $B"
		# The call through the TURN server.
		if [ "$cred" = right ]; then
			expect_match "A call through TURN server $re_turn[[:space:]]+a call through the proxy works: media relayed by $re_turn over TCP\$" \
				"$page" "the TURN line of the self-check page in $B"
			expect_eq ok "$(check turn0 class)" "the TURN check's class in $B"
		else
			expect_match "A call through TURN server $re_turn[[:space:]]+ICE candidate error 401[^(]*\(the TURN server was reached through the proxy but refused the test credentials" \
				"$page" "the TURN line of the self-check page in $B with wrong test credentials"
			expect_eq breaks "$(check turn0 class)" "the TURN check's class in $B with wrong test credentials"
			expect_no_match 'a call through the proxy works' "$page" "the self-check page in $B with wrong test credentials"
		fi
		# Plain words only: no script error or stack on the page.
		expect_no_match '(TypeError|ReferenceError|SyntaxError|DOMException|undefined|@http|at [A-Za-z.]+ \()' \
			"$(check turn0 text) $(check ws text)" "the checks' words in $B"
		expect_no_match 'checking\.\.\.' "$page" "the self-check page in $B once its checks are over"
		# Nothing the page's policy refused, no script error.
		expect_eq "" "$(dv steps.0.console | "$PY" -c 'import json, sys
print("\n".join(m for m in json.load(sys.stdin) if m.startswith("error:")))')" "errors on the console of the self-check page in $B"
		expect_eq "The results went to the proxy: its admin sees them in the report." "$(dv steps.0.sent)" \
			"the self-check page's last line in $B"

		# What pinhole saw: the page, the WebSocket inside a CONNECT to
		# port 80, the TURN tunnels (as alice: the browser sent the
		# credentials it held), the results.
		log_line_matching " NONE_NONE/200 [0-9]+ GET http://pinhole\.check/ alice HIER_NONE/- text/html$"
		log_line_matching " NONE_NONE/200 [0-9]+ CONNECT pinhole\.check:80 alice HIER_NONE/- self-check$"
		log_line_matching " NONE_NONE/101 [0-9]+ GET http://pinhole\.check/echo alice "
		log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT $re_turn alice HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
		log_line_matching " NONE_NONE/204 [0-9]+ POST http://pinhole\.check/result alice "
		no_log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT $re_turn "
		no_log_line_matching "/[45][0-9][0-9] [0-9]+ [A-Z]+ [a-z]*:?/?/?pinhole\.check[:/][^ ]* alice "

		# The results, for the admin: the client's row of /report.json and
		# the dashboard.
		want="ok turn.pinhole.test:$TURN ok"
		[ "$cred" = right ] || want="ok turn.pinhole.test:$TURN failed"
		eventually 5 eval '[ "$(self_check)" = "$want" ]'
		expect_eq "$want" "$(self_check)" "the self-check of 127.0.0.1/alice in /report.json after $B"
		expect_admin 200 /
		if [ "$cred" = right ]; then
			expect_match "self-check [0-9TZ:-]+: WebSocket ok; call through $re_turn ok" "$BODY" "the dashboard after $B"
		else
			expect_match "self-check [0-9TZ:-]+: WebSocket ok; call through $re_turn failed \(ICE candidate error 401" \
				"$BODY" "the dashboard after $B with wrong test credentials"
		fi
		pinhole_stop
	done
done
