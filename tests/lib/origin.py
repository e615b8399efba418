#!/usr/bin/python3
"""Test servers for pinhole's scenarios (stdlib only, run with /usr/bin/python3).

Every mode binds a random free port in 20000-32000 on a loopback address
(never the ephemeral range), writes it to --port-file once it listens, and
serves until killed.  Modes:

  http       HTTP/1.1 origin (add --cert/--key for TLS): /hello /chunked
             /close /echo /status/N /conn /slow /ws /hop /bytes/N,
             /hdr?NAME=VALUE&... (extra response headers, URL-encoded),
             /ntlm (connection-based auth as IIS does it: 401 with
             WWW-Authenticate: NTLM until a request on the same connection
             carried Authorization: NTLM ..., then "whoami=alice"), HEAD on
             any path, 100 Continue, persistent connections
  echo       TCP echo; on the client's EOF writes "EOF after N bytes\\n",
             then closes (for CONNECT tunnels and half-close)
  blackhole  listens with backlog 0 and fills its own accept queue, so that
             further SYNs are dropped: connecting to it never completes
  dns        UDP DNS server answering NXDOMAIN to every query

--log FILE appends one line per request ("conn-ID METHOD TARGET") or per
connection (echo), so scenarios can check what reached the origin.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
HELLO_BODY = b"hello from the origin\n"
CHUNKS = [b"first chunk\n", b"second, a little longer chunk\n",
          b"x" * 1000 + b"\n", b"last chunk\n"]


def reserved_ports():
    """Ports the harness handed out to live scenarios (not bound yet, maybe)."""
    taken = set()
    try:
        with open(os.environ.get("PH_RESERVED_PORTS", ""), encoding="ascii") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and os.path.exists("/proc/" + parts[1]):
                    taken.add(int(parts[0]))
    except (OSError, ValueError):
        pass
    return taken


def bind_random(host, kind=socket.SOCK_STREAM, backlog=64, port=0):
    """Binds host on a random port in 20000-32000 (or on port, if given),
    avoiding the ports the harness reserved."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    taken = set() if port else reserved_ports()
    for _ in range(300):
        p = port or random.randint(20000, 32000)
        if p in taken:
            continue
        s = socket.socket(family, kind)
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, p))
        except OSError:
            s.close()
            if port:
                raise
            continue
        if kind == socket.SOCK_STREAM:
            s.listen(backlog)
        return s, p
    raise SystemExit("origin: no free port in 20000-32000")


def announce(path, port):
    if not path:
        print(port, flush=True)
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


class RequestLog:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, line):
        if not self.path:
            return
        with self.lock, open(self.path, "a") as f:
            f.write(line + "\n")


class BadRequest(Exception):
    pass


class Stream:
    """Buffered reads over a socket (plain or TLS)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def read_until(self, delim, limit=256 * 1024):
        while delim not in self.buf:
            if len(self.buf) > limit:
                raise BadRequest("head too large")
            if not self.fill():
                return None
        i = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise BadRequest("connection closed in body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


class Request:
    def __init__(self, method, target, version, headers):
        self.method, self.target, self.version = method, target, version
        self.headers = headers            # list of (name, value), as received
        self.body = b""

    def get(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def tokens(self, name):
        out = []
        for v in self.all(name):
            out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out


def read_request(st):
    head = st.read_until(b"\r\n\r\n")
    if head is None:
        return None
    lines = head.decode("latin-1").split("\r\n")[:-2]
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("bad request line %r" % lines[0])
    headers = []
    for line in lines[1:]:
        if ":" not in line or line[0] in " \t":
            raise BadRequest("bad header line %r" % line)
        k, v = line.split(":", 1)
        headers.append((k, v.strip()))
    return Request(parts[0], parts[1], parts[2], headers)


def read_body(st, req, conn):
    te = req.tokens("transfer-encoding")
    cls = req.all("content-length")
    if te and cls:
        raise BadRequest("both Content-Length and Transfer-Encoding")
    if len(set(cls)) > 1:
        raise BadRequest("conflicting Content-Length")
    expects = (req.get("expect") or "").lower() == "100-continue"
    if te:
        if te[-1] != "chunked":
            raise BadRequest("unsupported transfer-coding")
        if expects:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = b""
        while True:
            line = st.read_until(b"\r\n", limit=4096)
            if line is None:
                raise BadRequest("closed in chunk size")
            size = line[:-2].split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]{1,16}", size):
                raise BadRequest("bad chunk size %r" % size)
            n = int(size, 16)
            if n == 0:
                while True:  # trailers
                    t = st.read_until(b"\r\n", limit=65536)
                    if t is None or t == b"\r\n":
                        break
                break
            body += st.read_exact(n)
            if st.read_exact(2) != b"\r\n":
                raise BadRequest("missing CRLF after chunk")
        return body
    if cls:
        if not re.fullmatch(r"[0-9]{1,18}", cls[0]):
            raise BadRequest("bad Content-Length")
        n = int(cls[0])
        if n and expects:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        return st.read_exact(n)
    return b""


def response(status, reason, headers, body=b"", head_only=False,
             length=True):
    h = ["HTTP/1.1 %d %s" % (status, reason)]
    h += ["%s: %s" % kv for kv in headers]
    if length:
        h.append("Content-Length: %d" % len(body))
    out = ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")
    return out if head_only else out + body


class HTTPOrigin:
    def __init__(self, args, log):
        self.args, self.log = args, log
        self.next_id = 0
        self.authed = set()  # connections authenticated by /ntlm
        self.lock = threading.Lock()
        self.tls = None
        if args.cert:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(args.cert, args.key)

    def serve(self, lsock):
        while True:
            c, _ = lsock.accept()
            with self.lock:
                self.next_id += 1
                cid = self.next_id
            threading.Thread(target=self.connection, args=(c, cid),
                             daemon=True).start()

    def connection(self, c, cid):
        try:
            c.settimeout(60)
            if self.tls:
                c = self.tls.wrap_socket(c, server_side=True)
            st = Stream(c)
            while True:
                try:
                    req = read_request(st)
                    if req is None:
                        break
                    self.log.write("conn-%d %s %s" % (cid, req.method,
                                                      req.target))
                    req.body = read_body(st, req, c)
                except BadRequest as e:
                    self.log.write("conn-%d bad-request %s" % (cid, e))
                    c.sendall(response(400, "Bad Request",
                                       [("Connection", "close"),
                                        ("Content-Type", "text/plain")],
                                       ("origin: %s\n" % e).encode()))
                    break
                if not self.handle(c, st, req, cid):
                    break
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def handle(self, c, st, req, cid):
        """Answers req; returns whether the connection stays open."""
        path = req.target
        m = re.match(r"^[a-zA-Z]+://[^/]*(/.*)?$", path)
        if m:  # an origin may receive absolute-form too (RFC 9112 3.2.2)
            path = m.group(1) or "/"
        query = ""
        if "?" in path:
            path, query = path.split("?", 1)
        head = req.method == "HEAD"
        keep = "close" not in req.tokens("connection")
        if req.version == "HTTP/1.0" and "keep-alive" not in req.tokens(
                "connection"):
            keep = False
        hdrs = [("Server", "pinhole-test-origin"),
                ("Content-Type", "text/plain")]
        if not keep:
            hdrs.append(("Connection", "close"))

        if path == "/hello":
            c.sendall(response(200, "OK", hdrs, HELLO_BODY, head))
        elif path == "/chunked":
            out = response(200, "OK", hdrs + [("Transfer-Encoding",
                                               "chunked")],
                           head_only=True, length=False)
            c.sendall(out)
            if not head:
                for ch in CHUNKS:
                    c.sendall(b"%x\r\n%s\r\n" % (len(ch), ch))
                    time.sleep(0.05)
                c.sendall(b"0\r\n\r\n")
        elif path == "/close":
            h = [kv for kv in hdrs if kv[0] != "Connection"]
            c.sendall(response(200, "OK", h + [("Connection", "close")],
                               head_only=True, length=False))
            if not head:
                c.sendall(HELLO_BODY)
                time.sleep(0.05)
                c.sendall(b"body delimited by close\n")
            return False
        elif path == "/echo":
            doc = {
                "method": req.method,
                "target": req.target,
                "version": req.version,
                "headers": [[k, v] for k, v in req.headers],
                "body_length": len(req.body),
                "body_sha256": hashlib.sha256(req.body).hexdigest(),
                "conn": "conn-%d" % cid,
            }
            body = (json.dumps(doc) + "\n").encode()
            h = [kv for kv in hdrs if kv[0] != "Content-Type"]
            c.sendall(response(200, "OK", h + [("Content-Type",
                                                "application/json")],
                               body, head))
        elif path.startswith("/status/"):
            try:
                code = int(path[len("/status/"):])
            except ValueError:
                code = 400
            if code in (204, 304) or 100 <= code < 200:
                c.sendall(response(code, "Status", hdrs, b"",
                                   head_only=True, length=False))
            else:
                c.sendall(response(code, "Status", hdrs,
                                   b"status %d\n" % code, head))
        elif path == "/conn":
            c.sendall(response(200, "OK", hdrs, b"conn-%d\n" % cid, head))
        elif path == "/slow":
            secs = float(query.split("=", 1)[1]) if query.startswith(
                "s=") else 3.0
            time.sleep(secs)
            c.sendall(response(200, "OK", hdrs, b"slow answer\n", head))
        elif path.startswith("/bytes/"):
            n = int(path[len("/bytes/"):])
            body = (b"0123456789abcdef" * (n // 16 + 1))[:n]
            c.sendall(response(200, "OK", hdrs, body, head))
        elif path == "/hop":
            # A response carrying hop-by-hop headers the proxy must remove.
            h = [kv for kv in hdrs if kv[0] != "Connection"]
            h += [("Connection", "X-Origin-Hop" + (", close" if not keep
                                                   else "")),
                  ("X-Origin-Hop", "must-not-reach-client"),
                  ("Keep-Alive", "timeout=30, max=77"),
                  ("Proxy-Connection", "keep-alive"),
                  ("X-Origin-End2End", "kept")]
            c.sendall(response(200, "OK", h, HELLO_BODY, head))
        elif path == "/hdr":
            # The response carries the headers the query names, as given
            # (e.g. /hdr?Connection=Content-Length), and a 22-byte body.
            from urllib.parse import parse_qsl
            extra = parse_qsl(query, keep_blank_values=True)
            names = {k.lower() for k, _ in extra}
            h = [kv for kv in hdrs if kv[0].lower() not in names] + extra
            c.sendall(response(200, "OK", h, HELLO_BODY, head))
        elif path == "/ntlm":
            if (req.get("authorization") or "").lower().startswith("ntlm "):
                self.authed.add(cid)
            if cid in self.authed:
                c.sendall(response(200, "OK", hdrs, b"whoami=alice\n", head))
            else:
                c.sendall(response(401, "Unauthorized",
                                   hdrs + [("WWW-Authenticate", "NTLM")],
                                   b"who are you?\n", head))
        elif path == "/ws":
            return self.websocket(c, st, req, hdrs)
        else:
            c.sendall(response(404, "Not Found", hdrs, b"no such path\n",
                               head))
        return keep

    def websocket(self, c, st, req, hdrs):
        key = req.get("sec-websocket-key")
        if "websocket" not in req.tokens("upgrade") or not key or \
                "upgrade" not in req.tokens("connection"):
            c.sendall(response(426, "Upgrade Required",
                               hdrs + [("Upgrade", "websocket")],
                               b"websocket upgrade expected\n"))
            return False
        accept = base64.b64encode(hashlib.sha1(
            (key + WS_GUID).encode()).digest()).decode()
        c.sendall(response(101, "Switching Protocols",
                           [("Upgrade", "websocket"),
                            ("Connection", "Upgrade"),
                            ("Sec-WebSocket-Accept", accept)],
                           head_only=True, length=False))
        while True:  # echo frames until a close frame or EOF
            try:
                h = st.read_exact(2)
            except BadRequest:
                return False
            op, n = h[0] & 0x0F, h[1] & 0x7F
            masked = h[1] & 0x80
            if n == 126:
                n = struct.unpack("!H", st.read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", st.read_exact(8))[0]
            mask = st.read_exact(4) if masked else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in
                         enumerate(st.read_exact(n)))
            if op == 8:
                c.sendall(ws_frame(8, data[:2]))
                return False
            if op == 9:
                op = 10
            c.sendall(ws_frame(op, data))


def ws_frame(op, data):
    n = len(data)
    if n < 126:
        h = struct.pack("!BB", 0x80 | op, n)
    elif n < 65536:
        h = struct.pack("!BBH", 0x80 | op, 126, n)
    else:
        h = struct.pack("!BBQ", 0x80 | op, 127, n)
    return h + data


def echo_conn(c, log, cid):
    total = 0
    try:
        c.settimeout(60)
        while True:
            data = c.recv(65536)
            if not data:
                break
            total += len(data)
            c.sendall(data)
        log.write("conn-%d eof after %d bytes" % (cid, total))
        c.sendall(b"EOF after %d bytes\n" % total)
        c.shutdown(socket.SHUT_WR)
        # Wait (bounded) for the client to close, so the final line is not
        # lost to a reset if it still sends something.
        c.settimeout(5)
        while c.recv(65536):
            pass
    except OSError:
        pass
    finally:
        c.close()


def serve_echo(lsock, log):
    cid = 0
    while True:
        c, _ = lsock.accept()
        cid += 1
        log.write("conn-%d open" % cid)
        threading.Thread(target=echo_conn, args=(c, log, cid),
                         daemon=True).start()


def serve_blackhole(lsock, port, host):
    # With backlog 0 the accept queue holds one connection; with it full the
    # kernel drops new SYNs, so a client's connect() just times out.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    fillers = []
    for _ in range(3):
        f = socket.socket(family, socket.SOCK_STREAM)
        f.setblocking(False)
        try:
            f.connect((host, port))
        except BlockingIOError:
            pass
        fillers.append(f)
        time.sleep(0.05)
    while True:
        time.sleep(3600)


def serve_dns(usock):
    while True:
        q, addr = usock.recvfrom(4096)
        if len(q) < 12:
            continue
        qid, flags = struct.unpack("!HH", q[:4])
        # Copy the question section; answer NXDOMAIN (rcode 3).
        i = 12
        while i < len(q) and q[i] != 0:
            i += q[i] + 1
        question = q[12:i + 5]
        rflags = 0x8000 | (flags & 0x0100) | 0x0080 | 3
        usock.sendto(struct.pack("!HHHHHH", qid, rflags, 1, 0, 0, 0) +
                     question, addr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["http", "echo", "blackhole", "dns"])
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    log = RequestLog(args.log)

    if args.mode == "dns":
        usock, port = bind_random(args.bind, socket.SOCK_DGRAM,
                                  port=args.port)
        announce(args.port_file, port)
        serve_dns(usock)
    backlog = 0 if args.mode == "blackhole" else 128
    lsock, port = bind_random(args.bind, backlog=backlog, port=args.port)
    if args.mode == "blackhole":
        threading.Thread(target=serve_blackhole,
                         args=(lsock, port, args.bind), daemon=True).start()
        time.sleep(0.3)  # let the fillers take the queue
        announce(args.port_file, port)
        while True:
            time.sleep(3600)
    announce(args.port_file, port)
    if args.mode == "echo":
        serve_echo(lsock, log)
    else:
        HTTPOrigin(args, log).serve(lsock)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
