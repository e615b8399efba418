#!/bin/sh
# `access-log FILE json` writes one JSON object per line with ts,
# elapsed_ms, client, result, status, bytes_out, bytes_in, method, url,
# user, hierarchy, peer, mime and error (null unless the request failed).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test denied.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.json json
hosts-file $T/hosts
deny domain denied.origin.test
allow dst-local
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
head -c 1000 /dev/zero | tr '\0' x >"$T/upload"
expect_status 200 --data-binary "@$T/upload" "http://www.origin.test:$WEB/echo"
raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' send 'twelve bytes' expect '^twelve bytes$' \
	shut expect '^EOF after 12 bytes\n$' eof
expect_status 403 "http://denied.origin.test:$WEB/hello"

eventually 5 test "$(wc -l <"$T/access.json")" -ge 4 ||
	fail "expected 4 access log lines, got: $(cat "$T/access.json")"
"$PY" - "$T/access.json" "$WEB" "$ECHO" <<'EOF' || fail "access log JSON check failed (see above)"
import json, sys, time
path, web, echo = sys.argv[1], sys.argv[2], sys.argv[3]
bad = []
def check(cond, what, e):
    if not cond:
        bad.append("%s: %s" % (what, json.dumps(e)))
entries = []
for n, line in enumerate(open(path), 1):
    try:
        entries.append(json.loads(line))
    except ValueError as err:
        bad.append("line %d is not JSON (%s): %r" % (n, err, line))
keys = {"ts", "elapsed_ms", "client", "result", "status", "bytes_out",
        "bytes_in", "method", "url", "user", "hierarchy", "peer", "mime",
        "error"}
for e in entries:
    check(isinstance(e, dict) and keys <= set(e), "missing keys %s" %
          sorted(keys - set(e if isinstance(e, dict) else {})), e)
    if not isinstance(e, dict) or not keys <= set(e):
        continue
    check(isinstance(e["ts"], (int, float)) and abs(e["ts"] - time.time()) < 60,
          "ts is not the epoch time now", e)
    check(isinstance(e["elapsed_ms"], int) and e["elapsed_ms"] >= 0, "elapsed_ms", e)
    check(e["client"] == "127.0.0.1", "client", e)
    check(e["user"] is None, "user (no auth configured)", e)
    for k in ("status", "bytes_out", "bytes_in"):
        check(isinstance(e[k], int), k + " is not an integer", e)
def find(method, url):
    got = [e for e in entries if isinstance(e, dict) and e.get("method") == method and e.get("url") == url]
    if len(got) != 1:
        bad.append("expected one entry for %s %s, found %d" % (method, url, len(got)))
        return None
    return got[0]
e = find("GET", "http://www.origin.test:%s/hello" % web)
if e:
    check(e["result"] == "TCP_MISS" and e["status"] == 200, "result/status", e)
    check(e["bytes_out"] > 22 and e["bytes_in"] > 0, "bytes", e)
    check(e["hierarchy"] == "HIER_DIRECT" and e["peer"] == "127.0.0.1", "hierarchy/peer", e)
    check(e["mime"] == "text/plain" and e["error"] is None, "mime/error", e)
e = find("POST", "http://www.origin.test:%s/echo" % web)
if e:
    check(e["result"] == "TCP_MISS" and e["status"] == 200, "result/status", e)
    check(e["bytes_in"] >= 1000, "bytes_in counts the 1000-byte body", e)
    check(e["mime"] == "application/json", "mime", e)
e = find("CONNECT", "127.0.0.1:%s" % echo)
if e:
    check(e["result"] == "TCP_TUNNEL" and e["status"] == 200, "result/status", e)
    check(e["bytes_out"] >= 31 and e["bytes_in"] >= 12, "bytes of the tunnel", e)
    check(e["hierarchy"] == "HIER_DIRECT" and e["peer"] == "127.0.0.1", "hierarchy/peer", e)
    check(e["error"] is None, "error", e)
e = find("GET", "http://denied.origin.test:%s/hello" % web)
if e:
    check(e["result"] == "TCP_DENIED" and e["status"] == 403, "result/status", e)
    check(e["hierarchy"] == "HIER_NONE" and e["peer"] in (None, "-"), "hierarchy/peer", e)
    check(isinstance(e["error"], str) and e["error"], "error names the cause", e)
for b in bad:
    print("access.json:", b)
sys.exit(1 if bad else 0)
EOF
pinhole_stop
