#!/usr/bin/python3
"""STUN over TCP for the WebRTC report's scenarios (stdlib only).

A browser behind an HTTP proxy sends its WebRTC media as TURN over TCP inside
a CONNECT tunnel; the first bytes in the tunnel are a STUN message (RFC 5389:
type, length, magic cookie 0x2112A442, 12-byte transaction id).

usage:
  stun.py serve [--bind ADDR] [--port N] [--port-file F] [--log F]
      a TCP STUN responder: answers every Binding request (0x0001) with a
      Binding success (0x0101) carrying XOR-MAPPED-ADDRESS and SOFTWARE;
      closes connections whose first bytes are not STUN.  --log gets one
      line per connection ("conn PEER stun N" or "conn PEER not-stun").
  stun.py client PROXYHOST PROXYPORT TARGET [options]
      CONNECT TARGET through the proxy as a browser would, then one STUN
      Binding request in the tunnel.  Options:
        --ua TEXT          User-Agent header of the CONNECT
        --source ADDR      local address to connect from (127.0.0.2, ...)
        --basic USER:PASS  send Basic Proxy-Authorization on the CONNECT
        --retry USER:PASS  on a 407, CONNECT again on a new connection with
                           Basic credentials (what Firefox does)
        --expect CODE      the CONNECT status wanted (default 200); when it
                           is not 200 no STUN is sent
        --expect-closed    after the 200, the proxy closes the tunnel
                           without any STUN answer (quirk strict-tls)
      Prints "CONNECT STATUS" per CONNECT and, on success,
      "binding success mapped ADDR:PORT"; exit 0 when everything went as
      expected, 1 otherwise (with what was seen on stderr).
"""

import argparse
import base64
import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from origin import announce, bind_random  # noqa: E402

COOKIE = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
ATTR_XOR_MAPPED = 0x0020
ATTR_SOFTWARE = 0x8022
TIMEOUT = 10


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def attr(kind, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def xor_address(host, port):
    xport = port ^ (COOKIE >> 16)
    xaddr = struct.unpack("!I", socket.inet_aton(host))[0] ^ COOKIE
    return struct.pack("!BBHI", 0, 1, xport, xaddr)


def parse_xor_address(value):
    _, family, xport, xaddr = struct.unpack("!BBHI", value[:8])
    if family != 1:
        return None
    return "%s:%d" % (socket.inet_ntoa(struct.pack("!I", xaddr ^ COOKIE)), xport ^ (COOKIE >> 16))


# ---------------------------------------------------------------- server

def serve_conn(conn, peer, log):
    count = 0
    try:
        conn.settimeout(30)
        while True:
            head = recv_exact(conn, 20)
            if len(head) < 20:
                break
            mtype, length, cookie = struct.unpack("!HHI", head[:8])
            if cookie != COOKIE or mtype & 0xC000:
                log("conn %s:%d not-stun" % peer)
                return
            body = recv_exact(conn, length)
            if len(body) < length:
                break
            count += 1
            if mtype != BINDING_REQUEST:
                continue
            attrs = attr(ATTR_XOR_MAPPED, xor_address(peer[0], peer[1])) + attr(ATTR_SOFTWARE, b"pinhole-test-stun")
            conn.sendall(struct.pack("!HHI", BINDING_SUCCESS, len(attrs), COOKIE) + head[8:20] + attrs)
        log("conn %s:%d stun %d" % (peer[0], peer[1], count))
    except OSError as e:
        log("conn %s:%d error %s" % (peer[0], peer[1], e))
    finally:
        conn.close()


def serve(args):
    lock = threading.Lock()

    def log(line):
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write(line + "\n")

    lsock, port = bind_random(args.bind, port=args.port)
    announce(args.port_file, port)
    while True:
        conn, peer = lsock.accept()
        threading.Thread(target=serve_conn, args=(conn, peer, log), daemon=True).start()


# ---------------------------------------------------------------- client

def say(msg):
    sys.stderr.write("stun.py: %s\n" % msg)


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > 65536:
            break
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def connect(args, basic):
    sock = socket.create_connection((args.proxyhost, args.proxyport), timeout=TIMEOUT,
                                    source_address=(args.source, 0) if args.source else None)
    lines = ["CONNECT %s HTTP/1.1" % args.target, "Host: %s" % args.target]
    if args.ua:
        lines.append("User-Agent: %s" % args.ua)
    if basic:
        lines.append("Proxy-Authorization: Basic %s" % base64.b64encode(basic.encode()).decode())
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head, rest = read_head(sock)
    first = head.split("\r\n", 1)[0]
    parts = first.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    print("CONNECT %d" % status, flush=True)
    return sock, status, head, rest


def binding(sock, rest, expect_closed):
    txid = os.urandom(12)
    sock.sendall(struct.pack("!HHI", BINDING_REQUEST, 0, COOKIE) + txid)
    data = rest
    try:
        while len(data) < 20:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        if len(data) >= 20:
            length = struct.unpack("!H", data[2:4])[0]
            while len(data) < 20 + length:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except ConnectionResetError:
        pass
    except socket.timeout:
        say("no STUN answer and no close within %d s" % TIMEOUT)
        return False
    if expect_closed:
        if data:
            say("expected the tunnel closed without an answer; got %r" % data[:64])
            return False
        print("tunnel closed without an answer", flush=True)
        return True
    if len(data) < 20:
        say("the tunnel closed before a STUN answer (got %r)" % data)
        return False
    mtype, length, cookie = struct.unpack("!HHI", data[:8])
    if mtype != BINDING_SUCCESS or cookie != COOKIE or data[8:20] != txid:
        say("not a Binding success for our transaction: %r" % data[:64])
        return False
    body, mapped = data[20:20 + length], None
    while len(body) >= 4:
        kind, alen = struct.unpack("!HH", body[:4])
        if kind == ATTR_XOR_MAPPED:
            mapped = parse_xor_address(body[4:4 + alen])
        body = body[4 + alen + (4 - alen % 4) % 4:]
    if not mapped:
        say("Binding success without XOR-MAPPED-ADDRESS")
        return False
    print("binding success mapped %s" % mapped, flush=True)
    return True


def client(args):
    sock, status, head, rest = connect(args, args.basic)
    if status == 407 and args.retry:
        sock.close()
        sock, status, head, rest = connect(args, args.retry)
    if status != args.expect:
        say("expected CONNECT %d, got:\n%s" % (args.expect, head))
        return 1
    if status != 200:
        sock.close()
        return 0
    ok = binding(sock, rest, args.expect_closed)
    sock.close()
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--bind", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--port-file")
    s.add_argument("--log")
    c = sub.add_parser("client")
    c.add_argument("proxyhost")
    c.add_argument("proxyport", type=int)
    c.add_argument("target")
    c.add_argument("--ua")
    c.add_argument("--source")
    c.add_argument("--basic")
    c.add_argument("--retry")
    c.add_argument("--expect", type=int, default=200)
    c.add_argument("--expect-closed", action="store_true")
    args = ap.parse_args()
    if args.mode == "serve":
        serve(args)
    sys.exit(client(args))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
