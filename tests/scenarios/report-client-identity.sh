#!/bin/sh
# The report tells clients apart by source address and user: a Chrome client
# on 127.0.0.2 (3 requests, after one from an old Chrome 79 there), Safari
# on an iPhone on 127.0.0.3 (2 requests) and alice's Firefox on 127.0.0.3
# authenticated with Basic (2 requests) are three clients in /report.json,
# each with its user, latest User-Agent, the browser and OS parsed from it,
# its request count and first/last seen times.  A client keeps its recent
# User-Agents (user_agents, the latest first) and each browser is judged:
# the old Chrome is unsupported-browser though the latest is not.  /report
# shows alice next to her address, and both browsers of 127.0.0.2.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test intranet.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
noauth domain www.origin.test
allow all
EOF
wait_admin

expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME79_WIN" "http://www.origin.test:$WEB/hello"
for i in 1 2 3; do
	expect_status 200 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "http://www.origin.test:$WEB/hello"
done
for i in 1 2; do
	expect_status 200 --interface 127.0.0.3 -A "$UA_SAFARI_IPHONE" "http://www.origin.test:$WEB/hello"
	expect_status 200 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" --proxy-basic -U alice:secret \
		"http://intranet.origin.test:$WEB/hello"
done
log_line_matching " 127\.0\.0\.3 TCP_MISS/200 [0-9]+ GET http://intranet\.origin\.test:$WEB/hello alice "
log_line_matching " 127\.0\.0\.3 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "

report_wait_requests 127.0.0.2 4 ""
expect_eq "|Chrome 131|Windows|degraded" "$C_USER|$C_BROWSER|$C_OS|$C_VERDICT" "client 127.0.0.2"
expect_eq "$UA_CHROME_WIN" "$C_UA" "User-Agent of 127.0.0.2"
report_finding 127.0.0.2 unsupported-browser ""
expect_match "^User-Agent Chrome 79 on Windows: older than Chrome 88\$" "$F_EVIDENCE" \
	"evidence of unsupported-browser for the older browser of 127.0.0.2"
report_wait_requests 127.0.0.3 2 ""
expect_eq "|Safari 17|iOS" "$C_USER|$C_BROWSER|$C_OS" "anonymous client 127.0.0.3"
expect_eq "$UA_SAFARI_IPHONE" "$C_UA" "User-Agent of the anonymous client 127.0.0.3"
report_wait_requests 127.0.0.3 2 alice
expect_eq "alice|Firefox 128|Linux" "$C_USER|$C_BROWSER|$C_OS" "alice on 127.0.0.3"
expect_eq "$UA_FIREFOX_LINUX" "$C_UA" "User-Agent of alice"

expect_admin 200 /report.json
SHAPE=$("$PY" -c '
import json, re, sys
r = json.loads(sys.stdin.read())
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
assert iso.match(r["generated"]), r["generated"]
for c in r["clients"]:
    assert iso.match(c["first_seen"]) and iso.match(c["last_seen"]), c
    assert c["first_seen"] <= c["last_seen"] <= r["generated"], c
print(len(r["clients"]), " ".join(sorted("%s/%s/%d" % (c["client"], c["user"] or "-", c["requests"])
                                         for c in r["clients"])))' <<<"$BODY") ||
	fail "unexpected /report.json: $BODY"
expect_eq "3 127.0.0.2/-/4 127.0.0.3/-/2 127.0.0.3/alice/2" "$SHAPE" "clients of /report.json"
AGENTS=$("$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
c = next(c for c in r["clients"] if c["client"] == "127.0.0.2")
print(" | ".join(a["browser"] for a in c["user_agents"]))' <<<"$BODY") || fail "no user_agents in: $BODY"
expect_eq "Chrome 131 | Chrome 79" "$AGENTS" "the User-Agents of 127.0.0.2, the latest first"

expect_admin 200 /report
expect_match '<td class="wr-client">127\.0\.0\.3</td><td>alice</td>' "$BODY" "/report (alice's row)"
expect_match '<td class="wr-client">127\.0\.0\.2</td><td>-</td>.*Chrome 131 on Windows</span><br><span class="wr-agent" [^>]*>Chrome 79 on Windows' \
	"$BODY" "/report (the anonymous client's row and its two browsers)"
pinhole_stop
