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

# A client that knows only MD5 (as many do) answers the second challenge.
out=$("$PY" - "$PH_PORT" "$WEB" <<'PYEOF'
import hashlib, re, socket, sys
port, web = int(sys.argv[1]), sys.argv[2]
url = "http://www.origin.test:%s/hello" % web
head = "GET %s HTTP/1.1\r\nHost: www.origin.test:%s\r\n" % (url, web)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
def exchange(extra):
    s.sendall((head + extra + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    top, rest = data.split(b"\r\n\r\n", 1)
    top = top.decode()
    n = int(re.search(r"(?im)^content-length: *(\d+)", top).group(1))
    while len(rest) < n:
        rest += s.recv(4096)
    return top, rest.decode()
top, _ = exchange("")
ch = [l for l in top.split("\r\n") if "algorithm=MD5" in l][0]
nonce = re.search(r'nonce="([^"]+)"', ch).group(1)
opaque = re.search(r'opaque="([^"]+)"', ch).group(1)
md5 = lambda x: hashlib.md5(x.encode()).hexdigest()
ha1 = md5("alice:pinhole:secret")
ha2 = md5("GET:" + url)
resp = md5("%s:%s:00000001:0a4f113b:auth:%s" % (ha1, nonce, ha2))
top, body = exchange('Proxy-Authorization: Digest username="alice", realm="pinhole", '
    'nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=00000001, '
    'cnonce="0a4f113b", response="%s", opaque="%s"\r\n' % (nonce, url, resp, opaque))
print(top.split("\r\n")[0].split(" ")[1], body.strip())
PYEOF
)
expect_eq "200 hello from the origin" "$out" "an MD5-only Digest client"
pinhole_stop
