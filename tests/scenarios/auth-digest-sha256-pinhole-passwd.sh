#!/bin/sh
# A digest file made by `pinhole passwd --digest` has the SHA-256 HA1 too: the
# 407 offers Digest SHA-256 first, then MD5; curl --proxy-digest answers with
# SHA-256 and gets the page, and a client limited to MD5 gets in as well.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
expect_match '^alice:pinhole:[0-9a-f]{32}:[0-9a-f]{64}$' "$(cat "$T/users.digest")" "pinhole passwd output"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_eq 'SHA-256 MD5' \
	"$(sed -n 's/^Proxy-Authenticate: Digest .*algorithm=\([A-Z0-9-]*\).*/\1/p' <<<"$HEADERS" | xargs)" \
	"algorithms offered, in order"

# curl -v shows the Proxy-Authorization it sent.
expect_status 200 -v --proxy-digest -U alice:secret "http://www.origin.test:$WEB/hello"
expect_match '^> Proxy-Authorization: Digest .*algorithm=SHA-256' "$(cat "$T/last.curlerr")" "curl's answer"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice HIER_DIRECT/"

# An MD5-only client (python's urllib answers the first challenge it
# understands; MD5 is offered second).
out=$("$PY" - "$PH_PORT" "$WEB" <<'PYEOF'
import sys, urllib.request
port, web = sys.argv[1], sys.argv[2]
pm = urllib.request.HTTPPasswordMgrWithDefaultRealm()
pm.add_password(None, "127.0.0.1:" + port, "alice", "secret")
op = urllib.request.build_opener(
    urllib.request.ProxyHandler({"http": "http://127.0.0.1:" + port}),
    urllib.request.ProxyDigestAuthHandler(pm))
try:
    r = op.open("http://www.origin.test:%s/hello" % web, timeout=10)
    print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
PYEOF
)
expect_eq "200 hello from the origin" "$out" "python urllib with Digest MD5"
pinhole_stop
