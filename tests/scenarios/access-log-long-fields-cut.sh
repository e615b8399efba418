#!/bin/sh
# A request line far longer than a log line (a 4,450-byte path, then a
# 20,000-byte URL full of bytes JSON must escape) never overflows the log:
# pinhole keeps serving, every line is valid JSON, and an over-long URL is
# cut with a visible "...[cut]" marker.  The Squid format cuts the same way.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.json json
hosts-file $T/hosts
allow all
EOF

long=$(head -c 4450 /dev/zero | tr '\0' a)
raw send "GET /$long HTTP/1.1\r\nHost: x\r\n\r\n" expect '^HTTP/1\.1 400 ' eof
# Quotes take two bytes each once escaped.
hostile=$(head -c 20000 /dev/zero | tr '\0' '"')
raw send "GET http://www.origin.test:$WEB/$hostile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" expect '^HTTP/1\.1 ' eof
expect_status 200 "http://www.origin.test:$WEB/hello"

eventually 5 test "$(wc -l <"$T/access.json")" -ge 3 ||
	fail "expected 3 access log lines, got: $(cat "$T/access.json")"
"$PY" - "$T/access.json" "$long" <<'EOF' || fail "the JSON access log is not what it should be (see above)"
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
bad = []
entries = []
for n, line in enumerate(lines, 1):
    try:
        entries.append(json.loads(line.decode("utf-8")))
    except ValueError as err:
        bad.append("line %d is not JSON (%s)" % (n, err))
urls = [e.get("url") or "" for e in entries]
if not any(u == "/" + sys.argv[2] for u in urls):
    bad.append("the 4,450-byte path is not logged whole")
cut = [u for u in urls if u.endswith("...[cut]")]
if len(cut) != 1 or not cut[0].startswith("http://www.origin.test:"):
    bad.append("expected one URL cut with the marker, got %r" % [u[:60] for u in cut])
if len(max(lines, key=len)) > 16384:
    bad.append("a line is longer than 16 KiB")
for b in bad:
    print("access.json:", b)
sys.exit(1 if bad else 0)
EOF

# The same requests in the Squid format.
pinhole_stop
sed "s|access-log .*|access-log $T/access.log squid|" "$T/pinhole.conf" >"$T/squid.conf"
pinhole_start <"$T/squid.conf"
raw send "GET /$long HTTP/1.1\r\nHost: x\r\n\r\n" expect '^HTTP/1\.1 400 ' eof
raw send "GET http://www.origin.test:$WEB/$hostile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" expect '^HTTP/1\.1 ' eof
log_line_matching " GET /a{4450} - HIER_NONE/- "
log_line_matching " GET http://www\.origin\.test:$WEB/\"+\.\.\.\[cut\] - "
expect_eq 2 "$(awk 'END { print NR }' "$T/access.log")" "Squid-format lines"
pinhole_stop
