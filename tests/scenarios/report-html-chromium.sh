#!/bin/sh
# /report is a page an admin reads at a glance, on a wall screen, without
# JavaScript: rendered by headless Chromium (a real screenshot is kept), the
# summary comes first, with the clients counted by verdict (2 breaks, 1
# degraded, 1 ok) and the most frequent findings with their fix
# (auth-required for two clients, `noauth domain .tokbox.com .opentok.com`);
# then one table of clients, worst verdict first, each row with its
# findings and their fix.  The column headings are links that order the
# table on the server (/report?sort=client: by address).  In Chromium's
# layout the summary is above the table, text cells are left-aligned and
# numbers right-aligned.
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

for c in 127.0.0.2 127.0.0.5; do
	for i in 1 2; do
		expect_status 407 --interface $c -A "$UA_CHROME_WIN" "https://api.opentok.com/"
	done
done
t407=$(date +%s)
expect_status 200 --interface 127.0.0.3 -A "$UA_FIREFOX_LINUX" "http://www.origin.test:$WEB/hello"
expect_status 200 --interface 127.0.0.4 -A "$UA_CHROME79_WIN" "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.4 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
# Past the retry window of every 407.
while [ "$(date +%s)" -lt $((t407 + 7)) ]; do
	sleep 0.2
done
report_finding 127.0.0.2 auth-required
report_finding 127.0.0.5 auth-required
report_finding 127.0.0.4 unsupported-browser
report_wait_requests 127.0.0.3 1

expect_admin 200 /report
expect_no_match '<script' "$BODY" "/report (scripts)"
printf '%s\n' "$BODY" >"$T/report.html"

chrome() {
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$T/chromium" \
		--window-size=1400,900 "$@" 2>>"$T/chromium.log"
}
chrome --screenshot="$T/report.png" "$ADMIN_URL/report" >>"$T/chromium.log"
size=$(stat -c %s "$T/report.png" 2>/dev/null || echo 0)
[ "$size" -gt 10000 ] || fail "chromium made no useful screenshot of /report ($size bytes):
$(tail -n 20 "$T/chromium.log")"
if [ -n "${PH_SCREENSHOT_DIR:-}" ]; then
	cp "$T/report.png" "$PH_SCREENSHOT_DIR/report-html-chromium.png" && note "screenshot: $PH_SCREENSHOT_DIR/report-html-chromium.png"
fi
note "/report screenshot: $size bytes"

# What Chromium's DOM holds, in document order: the summary's counts and
# top findings, then the table's headings (with their links) and rows.
read_dom() {
	"$PY" -c '
import html.parser, sys

class Report(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.out, self.cell, self.row, self.where, self.link = [], None, None, None, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "ul" and "wr-counts" in cls:
            self.where = "counts"
        elif tag == "li" and self.where == "counts":
            self.cell = []
        elif tag == "table" and "wr-top" in cls:
            self.where = "top"
        elif tag == "table" and "wr-clients" in cls:
            self.where = "clients"
        elif tag == "tr" and self.where in ("top", "clients"):
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "a" and self.where == "clients" and self.cell is not None:
            self.link = a.get("href")
        elif tag == "code" and self.cell is not None:
            self.cell.append("`")
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")
    def handle_endtag(self, tag):
        if tag == "code" and self.cell is not None:
            self.cell.append("`")
        elif tag == "li" and self.where == "counts" and self.cell is not None:
            self.out.append("count: " + " ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "ul" and self.where == "counts":
            self.where = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            text = " ".join("".join(self.cell).split())
            if self.link:
                text += " <" + self.link + ">"
                self.link = None
            self.row.append(text)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            row = self.row
            if self.where == "clients" and len(row) == 7 and not row[0].startswith("Verdict"):
                row = row[:2] + [row[6]]
            self.out.append(self.where + ": " + " | ".join(row))
            self.row = None
        elif tag == "table":
            self.where = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

p = Report()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print("\n".join(p.out))
' "$1" | sed -E 's/[0-9]{2}:[0-9]{2}:[0-9]{2}/HH:MM:SS/g'
}

chrome --dump-dom "$ADMIN_URL/report" >"$T/report.dom" ||
	fail "chromium --dump-dom failed: $(tail -n 20 "$T/chromium.log")"
SEEN=$(read_dom "$T/report.dom") || fail "cannot read the DOM chromium dumped: $(head -c 2000 "$T/report.dom")"
expect_eq "count: 2 breaks
count: 1 degraded
count: 1 ok
top: Finding | Severity | Clients | Seen | Fix
top: auth-required | breaks | 2 | 4 | \`noauth domain .tokbox.com .opentok.com\`
top: unsupported-browser | degraded | 1 | 1 | update the browser (Chrome or Edge 88, Firefox 82, Safari 13 or later)
clients: Verdict <report?sort=verdict> | Client <report?sort=client> | User <report?sort=user> | Browser <report?sort=browser> | Requests <report?sort=requests> | Last seen <report?sort=last-seen> | Findings and fixes
clients: breaks | 127.0.0.5 | auth-required breaks ×2 · tokbox · TOKBOX 407 on CONNECT api.opentok.com:443 at HH:MM:SS, not answered within 5 s Fix: \`noauth domain .tokbox.com .opentok.com\`
clients: breaks | 127.0.0.2 | auth-required breaks ×2 · tokbox · TOKBOX 407 on CONNECT api.opentok.com:443 at HH:MM:SS, not answered within 5 s Fix: \`noauth domain .tokbox.com .opentok.com\`
clients: degraded | 127.0.0.4 | unsupported-browser degraded ×1 · CMS User-Agent Chrome 79 on Windows: older than Chrome 88 Fix: update the browser (Chrome or Edge 88, Firefox 82, Safari 13 or later)
clients: ok | 127.0.0.3 | No finding." "$SEEN" "what /report shows in Chromium, worst verdict first"

# The heading's link orders the table by address, on the server.
chrome --dump-dom "$ADMIN_URL/report?sort=client" >"$T/report-client.dom" ||
	fail "chromium --dump-dom of /report?sort=client failed: $(tail -n 20 "$T/chromium.log")"
SEEN=$(read_dom "$T/report-client.dom" | sed -nE 's/^clients: ([a-z]+) \| ([0-9.]+) .*/\2 \1/p')
expect_eq "127.0.0.2 breaks
127.0.0.3 ok
127.0.0.4 degraded
127.0.0.5 breaks" "$SEEN" "the rows of /report?sort=client"

# Layout, as Chromium computes it: the saved page with a script of the
# test's own (the report has none) that measures it.
cat >>"$T/report.html" <<'EOF'
<script>
const q = s => document.querySelector(s);
const cells = [...document.querySelectorAll("table.wr-clients tbody td")];
const align = td => getComputedStyle(td).textAlign;
const out = [
  "summary above the table: " + (q(".wr-counts").getBoundingClientRect().bottom <= q("table.wr-clients").getBoundingClientRect().top),
  "text cells: " + [...new Set(cells.filter(td => !td.classList.contains("num")).map(align))].join(","),
  "number cells: " + [...new Set(cells.filter(td => td.classList.contains("num")).map(align))].join(","),
  "caption: " + getComputedStyle(q("table.wr-clients caption")).textAlign,
];
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = out.join("\n");
document.body.appendChild(pre);
</script>
EOF
chrome --dump-dom --virtual-time-budget=3000 "file://$T/report.html" >"$T/measured.dom" ||
	fail "chromium could not measure the page: $(tail -n 20 "$T/chromium.log")"
MEASURED=$(sed -n '/<pre id="measured">/,/<\/pre>/p' "$T/measured.dom" | sed 's/<[^>]*>//g')
expect_eq "summary above the table: true
text cells: left
number cells: right
caption: left" "$MEASURED" "the layout Chromium computed"
pinhole_stop
