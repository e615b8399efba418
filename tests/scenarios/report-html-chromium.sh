#!/bin/sh
# /report is a page a person can read without JavaScript: rendered by
# headless Chromium after a Chrome client got 407 twice on CONNECT
# api.opentok.com and a Firefox client browsed without trouble, it makes a
# real screenshot, and the DOM Chromium built shows first the Chrome
# client's table, captioned with its address and "breaks", with the
# auth-required row (severity, vendor, source, count, evidence, advice),
# then the Firefox client's, "ok", saying it has no finding.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/report.sh"

browser=$(command -v chromium || command -v chromium-browser) ||
	skip "needs chromium (apt-get install chromium)"
printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
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

for i in 1 2; do
	expect_status 407 --interface 127.0.0.2 -A "$UA_CHROME_WIN" "https://api.opentok.com/"
done
expect_status 200 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.3 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
report_finding 127.0.0.2 auth-required
expect_eq 2 "$F_COUNT" "count of auth-required before rendering"
report_wait_requests 127.0.0.3 1

expect_admin 200 /report
expect_no_match '<script' "$BODY" "/report (scripts)"

chrome() {
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
		--window-size=1200,900 "$@" "$ADMIN_URL/report" 2>>"$T/chromium.log"
}
chrome --screenshot="$T/report.png" >>"$T/chromium.log"
size=$(stat -c %s "$T/report.png" 2>/dev/null || echo 0)
[ "$size" -gt 10000 ] || fail "chromium made no useful screenshot of /report ($size bytes):
$(tail -n 20 "$T/chromium.log")"
note "/report screenshot: $size bytes"

chrome --dump-dom >"$T/report.dom" || fail "chromium --dump-dom failed: $(tail -n 20 "$T/chromium.log")"
SEEN=$("$PY" -c '
import html.parser, re, sys

class Tables(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.out, self.cell, self.where, self.row = [], None, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "client" in (a.get("class") or "").split():
            self.out.append(["table"])
        elif not self.out:
            return
        elif tag == "caption":
            self.cell = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
    def handle_endtag(self, tag):
        if not self.out:
            return
        if tag == "caption" and self.cell is not None:
            self.out[-1].append("caption: " + " ".join("".join(self.cell).split()))
            self.cell = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row and self.row[0] in ("auth-required", "Browser") or len(self.row) == 1:
                self.out[-1].append(" | ".join(self.row))
            self.row = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

p = Tables()
p.feed(open(sys.argv[1], encoding="utf-8").read())
for t in p.out:
    print("\n".join(t))
' "$T/report.dom" | sed -E 's/[0-9]{2}:[0-9]{2}:[0-9]{2}/HH:MM:SS/') ||
	fail "cannot read the DOM chromium dumped: $(head -c 2000 "$T/report.dom")"
expect_eq "table
caption: 127.0.0.2 breaks
Browser | Chrome 131
auth-required | breaks | tokbox | TOKBOX | 2 | 407 on CONNECT api.opentok.com:443 at HH:MM:SS | noauth domain .tokbox.com .opentok.com
table
caption: 127.0.0.3 ok
Browser | Firefox 128
No finding: nothing seen would break a call." "$SEEN" "what /report shows in Chromium"
pinhole_stop
