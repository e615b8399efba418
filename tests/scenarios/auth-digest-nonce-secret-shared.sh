#!/bin/sh
# Two pinhole instances with the same `auth digest nonce-secret FILE` (behind
# one name) accept each other's nonces; one with another secret answers such a
# nonce with a fresh challenge, stale=true, so clients retry at once.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

# digest CMD...: a minimal Digest MD5 client for alice:secret (curl cannot
# wait between the legs or reuse a nonce on purpose).
#   digest challenge PORT URL          prints "NONCE OPAQUE" of the MD5 challenge
#   digest answer PORT URL NONCE OPAQUE NC [PASSWORD]
#                                      prints the status, "stale" if the 407
#                                      says stale=true, and the body
digest() {
	"$PY" - "$@" <<'PYEOF'
import hashlib, re, socket, sys
cmd, port, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
host = url.split("/")[2]
def exchange(extra):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (url, host, extra)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(4096)
        if not more:
            break
        data += more
    top, rest = data.split(b"\r\n\r\n", 1)
    top = top.decode()
    n = int(re.search(r"(?im)^content-length: *(\d+)", top).group(1))
    while len(rest) < n:
        rest += s.recv(4096)
    s.close()
    return top, rest.decode().strip()
def md5_challenge(top):
    for line in top.split("\r\n"):
        if line.startswith("Proxy-Authenticate: Digest") and "algorithm=MD5" in line:
            return line
if cmd == "challenge":
    ch = md5_challenge(exchange("")[0])
    print(re.search(r'nonce="([^"]+)"', ch).group(1), re.search(r'opaque="([^"]+)"', ch).group(1))
else:
    nonce, opaque, nc = sys.argv[4], sys.argv[5], sys.argv[6]
    pw = sys.argv[7] if len(sys.argv) > 7 else "secret"
    md5 = lambda x: hashlib.md5(x.encode()).hexdigest()
    resp = md5("%s:%s:%s:0a4f113b:auth:%s" % (md5("alice:pinhole:" + pw), nonce, nc, md5("GET:" + url)))
    top, body = exchange('Proxy-Authorization: Digest username="alice", realm="pinhole", '
                         'nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="0a4f113b", '
                         'response="%s", opaque="%s"\r\n' % (nonce, url, nc, resp, opaque))
    ch = md5_challenge(top) or ""
    print(top.split(" ")[1], "stale" if "stale=true" in ch else "-", body)
PYEOF
}

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
head -c 48 /dev/urandom | base64 -w0 >"$T/nonce.secret"
head -c 48 /dev/urandom | base64 -w0 >"$T/other.secret"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
PORT_B=$(free_port)
PORT_C=$(free_port)
# config PORT SECRET-FILE
config() {
	cat <<EOF
listen 127.0.0.1:$1
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
auth digest nonce-secret $2
allow all
EOF
}
pinhole_start < <(config "$PH_PORT" "$T/nonce.secret")
config "$PORT_B" "$T/nonce.secret" >"$T/b.conf"
spawn pinhole-b "$PINHOLE" run -c "$T/b.conf"
PH_B=$SPAWNED_PID
config "$PORT_C" "$T/other.secret" >"$T/c.conf"
spawn pinhole-c "$PINHOLE" run -c "$T/c.conf"
PH_C=$SPAWNED_PID
eventually 10 port_listening "$PORT_B" || fail "pinhole B does not listen: $(cat "$T/pinhole-b.err")"
eventually 10 port_listening "$PORT_C" || fail "pinhole C does not listen: $(cat "$T/pinhole-c.err")"

url=http://www.origin.test:$WEB/hello
read -r nonce opaque <<<"$(digest challenge "$PH_PORT" "$url")"
expect_match '^200 - ' "$(digest answer "$PORT_B" "$url" "$nonce" "$opaque" 00000001)" \
	"B (same secret) answered with A's nonce"
expect_match '^200 - ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000002)" \
	"A answered with its own nonce"
expect_match '^407 stale ' "$(digest answer "$PORT_C" "$url" "$nonce" "$opaque" 00000003)" \
	"C (another secret) answered with A's nonce"
expect_eq 2 "$(origin_count WEB)" "requests the origin saw"
pinhole_stop
PH_PID=$PH_B pinhole_stop
PH_PID=$PH_C pinhole_stop
