#!/bin/sh
# A User-Agent is whatever a client sends: one with quotes, backslashes, a
# tab, HTML (<script>), valid UTF-8 (é) and invalid bytes (\xff, a truncated
# sequence) is kept in the report, /report.json still
# parses as strict JSON in valid UTF-8 and gives it back with the invalid
# bytes as U+FFFD, and /report and the dashboard show it HTML-escaped: no raw
# <script> in either page.  A request whose User-Agent holds control bytes
# that HTTP forbids (an escape sequence, DEL, NUL) is refused (400) and does
# not break the report either.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

# As sent, in rawclient.py's escapes; then as JSON must give it back.
ua='Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 "quoted" back\\slash\ttab red</td><script>alert(1)</script> caf\xc3\xa9 bad\xff\xfe cut\xc3'
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nUser-Agent: $ua\r\nConnection: close\r\n\r\n" \
	expect '^HTTP/1\.1 ' eof
log_line_matching " 127\.0\.0\.1 [A-Z_]+/[0-9]+ [0-9]+ GET http://www\.origin\.test:$WEB/hello "
status=$(sed -n 's/.* [A-Z_]*\/\([0-9]*\) [0-9]* GET http:\/\/www\.origin\.test.*/\1/p' "$T/access.log" | head -n 1)

# Control bytes other than tab are not allowed in a header field value.
raw send "GET http://www.origin.test:$WEB/ctl HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nUser-Agent: evil \x1b[2J\x1b]0;owned\x07\x7f\x00x\r\nConnection: close\r\n\r\n" \
	expect '^HTTP/1\.1 400 ' eof
expect_eq 0 "$(grep -c '/ctl' "$T/WEB.requests")" "requests with control bytes the origin saw"

report_wait_requests 127.0.0.1 1
expect_admin 200 /report.json
cp "$T/admin.body" "$T/report.json"
GOT=$("$PY" -c '
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")  # strict: invalid UTF-8 fails here
r = json.loads(text)        # strict: raw control characters fail here
uas = [c["user_agent"] for c in r["clients"]]
want = ("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 \"quoted\" back\\slash\ttab red"
        "</td><script>alert(1)</script> caf\u00e9 bad\ufffd\ufffd cut\ufffd")
print("kept" if want in uas else "not kept: %r" % uas)
print(r["clients"][0]["browser"], len(r["clients"]))' "$T/report.json") || fail "/report.json is not strict JSON in UTF-8: $(cat -v "$T/report.json")"
expect_eq "kept
Chrome 131 1" "$GOT" "the hostile User-Agent in /report.json (request status $status)"

for page in /report /; do
	expect_admin 200 "$page"
	cp "$T/admin.body" "$T/page.html"
	"$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/page.html" ||
		fail "$page is not valid UTF-8"
	expect_no_match '<script>alert|</td><script' "$BODY" "$page (the User-Agent's HTML)"
	# The dashboard's own script (live rates) is its one <script>.
	scripts=$(grep -o '<script' "$T/page.html" | wc -l)
	[ "$scripts" -le "$([ "$page" = / ] && echo 1 || echo 0)" ] || fail "$page has $scripts <script> elements"
	expect_match '&lt;/td&gt;&lt;script&gt;alert\(1\)&lt;/script&gt;' "$BODY" "$page (the User-Agent, escaped)"
	expect_match '&quot;quoted&quot; back\\slash' "$BODY" "$page (quotes escaped)"
	expect_match 'café bad&#xfffd;&#xfffd; cut&#xfffd;' "$BODY" "$page (invalid bytes replaced, é kept)"
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$T/page.html"; then
		fail "$page holds raw control characters"
	fi
done
pinhole_stop
