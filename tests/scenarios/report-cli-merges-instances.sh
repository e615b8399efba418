#!/bin/sh
# `pinhole report` with several --admin URLs merges the instances' WebRTC
# reports into one table, one client per address and user, worst first; an
# instance that does not answer is named in a warning; exit 1 when a client
# breaks, 0 when none does, 2 when no instance answered.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

A=$(free_port)    # a plain HTTP server with the first instance's report
B=$(free_port)    # admin-auth (Basic) in front of the second one, chunked
DEAD=$(free_port) # nothing listens here

mkdir -p "$T/a/bad" "$T/b"
cat >"$T/a/report.json" <<'EOF'
{"generated":"2026-11-21T10:00:00Z","clients":[
{"client":"10.0.0.5","user":"alice","user_agent":"Mozilla/5.0 (Windows NT 10.0) Chrome/131.0",
 "browser":"Chrome 131","os":"Windows","first_seen":"2026-11-21T09:00:00Z",
 "last_seen":"2026-11-21T10:00:00Z","requests":42,"verdict":"degraded","findings":[
 {"rule":"auth-required","severity":"degraded","vendors":["tokbox"],"source":"TOKBOX","count":3,
  "evidence":"407 on CONNECT api.opentok.com:443 at 09:59:01",
  "advice":"noauth domain .tokbox.com .opentok.com"}]},
{"client":"10.0.0.7","user":null,"user_agent":"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
 "browser":"Firefox 133","os":"Linux","first_seen":"2026-11-21T09:10:00Z",
 "last_seen":"2026-11-21T09:50:00Z","requests":5,"verdict":"ok","findings":[]}]}
EOF
echo '<html><body>not a report</body></html>' >"$T/a/bad/report.json"
# Seen later by the second instance: alice now breaks; carol's browser name
# carries terminal escape sequences, as a hostile User-Agent could.
cat >"$T/b/report.json" <<'EOF'
{"generated":"2026-11-21T10:05:00Z","clients":[
{"client":"10.0.0.5","user":"alice","user_agent":"Mozilla/5.0 (Windows NT 10.0) Chrome/132.0",
 "browser":"Chrome 132","os":"Windows","first_seen":"2026-11-21T09:30:00Z",
 "last_seen":"2026-11-21T10:04:00Z","requests":10,"verdict":"breaks","findings":[
 {"rule":"auth-required","severity":"breaks","vendors":["webex","tokbox"],"source":"TOKBOX","count":2,
  "evidence":"407 on CONNECT api.opentok.com:443 at 10:03:30",
  "advice":"noauth domain .tokbox.com .opentok.com"},
 {"rule":"turn-over-tcp","severity":"degraded","vendors":["webex"],"source":"WEBEX","count":1,
  "evidence":"TURN over TCP to 10.1.1.1:443","advice":"allow port 3478 (UDP) to the Webex media nodes"}]},
{"client":"10.0.0.9","user":"carol","user_agent":"Mozilla/5.0 (iPhone) \u001b[2J\u001b]0;owned\u0007",
 "browser":"Safari 18\u001b[31m\u0007","os":"iOS","first_seen":"2026-11-21T10:01:00Z",
 "last_seen":"2026-11-21T10:02:00Z","requests":7,"verdict":"degraded","findings":[
 {"rule":"ios-behind-proxy","severity":"degraded","vendors":[],"count":1,
  "evidence":"CONNECT from iOS \u001b[1mSafari","advice":"exempt iOS devices from the proxy"}]}]}
EOF

cat >"$T/basic_server.py" <<'EOF'
# Serves FILE at /pinhole/report.json, chunked, to Basic USER:PASSWORD only.
import base64, http.server, sys

port, path, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
want = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body):
        self.send_response(code)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="pinhole admin"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.headers.get("Authorization") != want:
            return self.reply(401, b"authentication required\n")
        if self.path != "/pinhole/report.json":
            return self.reply(404, b"no such page\n")
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(0, len(data), 100):
            chunk = data[i:i + 100]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % self.requestline)

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
EOF

spawn a "$PY" -m http.server --bind 127.0.0.1 --directory "$T/a" "$A"
spawn b "$PY" "$T/basic_server.py" "$B" "$T/b/report.json" admin 's3cr%t'
eventually 10 port_listening "$A" || fail "the report server on port $A did not start"
eventually 10 port_listening "$B" || fail "the Basic-auth report server on port $B did not start"

# The first instance alone: a degraded client, none breaks: exit 0.
run_pinhole report --admin "http://127.0.0.1:$A"
expect_eq 0 "$RC" "exit status, one instance, no client breaks (stderr: $ERR)"
expect_match '^2 clients: 0 breaks, 1 degraded, 1 ok$' "$OUT" "summary of one instance"
expect_no_match 'seen by' "$OUT" "one instance: no 'seen by' lines"

# Three instances, credentials %-encoded in the URL, one refusing: merged.
run_pinhole report --admin "http://127.0.0.1:$A" --admin "http://admin:s3cr%25t@127.0.0.1:$B/pinhole/" \
	--admin "http://127.0.0.1:$DEAD"
expect_eq 1 "$RC" "exit status when a client breaks (stderr: $ERR)"
expect_match "^pinhole report: warning: 127\.0\.0\.1:$DEAD: connection refused$" "$ERR" "warning for the dead instance"
expect_eq 1 "$(grep -c . <<<"$ERR")" "lines on stderr"
expect_match '^CLIENT +USER +BROWSER/OS +VERDICT +REQUESTS +LAST SEEN$' "$OUT" "table header"
expect_match '^10\.0\.0\.5  alice  Chrome 132/Windows  breaks +52  2026-11-21T10:04:00Z$' "$OUT" "merged client row"
expect_match '^    auth-required  breaks    x5  tokbox, webex$' "$OUT" "merged finding"
expect_match '^        evidence: 407 on CONNECT api\.opentok\.com:443 at 10:03:30$' "$OUT" "the newest evidence"
expect_match '^        fix: noauth domain \.tokbox\.com \.opentok\.com$' "$OUT" "advice"
expect_match '^    turn-over-tcp  degraded  x1  webex$' "$OUT" "finding seen by one instance"
expect_match "^    seen by 127\.0\.0\.1:$A, 127\.0\.0\.1:$B/pinhole$" "$OUT" "instances that saw alice"
expect_match '^10\.0\.0\.7  -      Firefox 133/Linux   ok +5  2026-11-21T09:50:00Z$' "$OUT" "client without user"
expect_match '^3 clients: 1 breaks, 1 degraded, 1 ok$' "$OUT" "summary line"
expect_eq "10.0.0.5 10.0.0.9 10.0.0.7" "$(awk '/^[0-9]+\./ { printf "%s%s", sep, $1; sep = " " }' <<<"$OUT")" \
	"clients, worst verdict first"
# Terminal-safe: the escape sequences from the network are gone.
expect_match '^10\.0\.0\.9  carol  Safari 18\[31m/iOS ' "$OUT" "hostile browser name, made safe"
expect_match '^        evidence: CONNECT from iOS \[1mSafari$' "$OUT" "hostile evidence, made safe"
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$OUT"; then
	fail "control characters in the table: $(LC_ALL=C grep -n $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$OUT" | cat -v)"
fi
expect_no_match 's3cr' "$OUT$ERR" "the admin password"

# Credentials from the environment; --json is valid JSON with the merged
# client and the instances, escapes kept as escapes.
PINHOLE_ADMIN_USER=admin PINHOLE_ADMIN_PASSWORD='s3cr%t' \
	run_pinhole report --json --admin "http://127.0.0.1:$A" --admin "http://127.0.0.1:$B/pinhole" \
	--admin "http://127.0.0.1:$DEAD"
expect_eq 1 "$RC" "exit status of --json when a client breaks (stderr: $ERR)"
"$PY" -m json.tool <<<"$OUT" >"$T/report.pretty" 2>"$T/json.err" ||
	fail "--json output is not JSON: $(cat "$T/json.err")
$OUT"
expect_no_match $'\x1b' "$OUT" "raw escape in --json"
SUMMARY=$("$PY" -c '
import json, sys
r = json.load(sys.stdin)
c = r["clients"][0]
f = c["findings"][0]
print(len(r["clients"]), c["client"], c["user"], c["requests"], c["verdict"], c["first_seen"], c["last_seen"],
      f["rule"], f["severity"], f["count"], ",".join(f["vendors"]), ",".join(c["instances"]))
print(r["clients"][1]["browser"] == "Safari 18\x1b[31m\x07", r["clients"][2]["user"])
print(" ".join("%s=%s" % (i["instance"], i.get("error", i.get("clients"))) for i in r["instances"]))
print(r["generated"])' <<<"$OUT") || fail "unexpected --json shape: $OUT"
expect_eq "3 10.0.0.5 alice 52 breaks 2026-11-21T09:00:00Z 2026-11-21T10:04:00Z auth-required breaks 5 tokbox,webex \
127.0.0.1:$A,127.0.0.1:$B/pinhole
True None
127.0.0.1:$A=2 127.0.0.1:$B/pinhole=2 127.0.0.1:$DEAD=connection refused
2026-11-21T10:05:00Z" "$SUMMARY" "merged --json"

# Without credentials the Basic-auth instance says what to do.
run_pinhole report --admin "http://127.0.0.1:$B/pinhole" --admin "http://127.0.0.1:$A"
expect_eq 0 "$RC" "exit status when only the first instance answers"
expect_match "^pinhole report: warning: 127\.0\.0\.1:$B/pinhole: HTTP 401 \(admin-auth: give user:pass@ in the URL" \
	"$ERR" "401 without credentials"

# Nothing answered: each failure named, exit 2.
run_pinhole report --admin "http://admin:wrong@127.0.0.1:$B/pinhole" --admin "http://127.0.0.1:$DEAD" \
	--admin "http://127.0.0.1:$A/bad"
expect_eq 2 "$RC" "exit status when no instance answered"
expect_eq "" "$OUT" "stdout when no instance answered"
expect_match "^pinhole report: 127\.0\.0\.1:$B/pinhole: HTTP 401 \(admin-auth: the user name or password is wrong\)$" \
	"$ERR" "wrong password"
expect_match "^pinhole report: 127\.0\.0\.1:$DEAD: connection refused$" "$ERR" "refused"
expect_match "^pinhole report: 127\.0\.0\.1:$A/bad: not a pinhole report \(bad JSON at line 1, column 1: '\[' or '\{' expected near '<'\)$" \
	"$ERR" "not JSON"
expect_match '^pinhole report: no instance answered$' "$ERR" "final line"
expect_no_match 'wrong' "$(grep -v 'is wrong' <<<"$ERR")" "the password"

# https:// to a port that speaks plain HTTP: the TLS handshake fails, and
# the message says what to check (https itself: report-cli-https.sh).
run_pinhole report --admin "https://127.0.0.1:$A"
expect_eq 2 "$RC" "exit status for https:// to a plain HTTP port"
expect_match "^pinhole report: https://127\.0\.0\.1:$A: TLS handshake failed \(.+\): is this an https:// port\?$" \
	"$ERR" "https:// to a plain HTTP port"

run_pinhole report --help
expect_eq 0 "$RC" "exit status of --help"
expect_match '^Exit status: 0 no client breaks' "$OUT" "--help documents the exit status"
