#!/usr/bin/python3
"""tests/lib/digest_client.py - a minimal Digest (MD5) client for alice,
for the scenarios that need what curl cannot do: wait between the legs,
reuse a nonce, or replay a nonce count on purpose.

  digest_client.py challenge PORT URL
      prints "NONCE OPAQUE" of the proxy's MD5 challenge
  digest_client.py answer PORT URL NONCE OPAQUE NC [PASSWORD]
      prints the status, "stale" if the 407 says stale=true (else "-"),
      and the body
"""
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
