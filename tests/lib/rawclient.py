#!/usr/bin/python3
"""A scripted TCP client for exchanges curl cannot make (stdlib only).

usage: rawclient.py [--timeout S] HOST PORT STEP...

Steps run in order on one connection; the first that fails prints what was
expected and what was received, and the client exits 1.

  send TEXT          send TEXT; C escapes \\r \\n \\t \\0 \\\\ \\xHH are decoded
  sendfile PATH      send the bytes of a file
  proxy-v2 SRC DST SPORT DPORT
                     send a binary PROXY protocol v2 header (TCP4 or TCP6)
  ws-text TEXT       send TEXT as one masked WebSocket text frame
  expect REGEX       read until the data not yet consumed matches REGEX
                     (Python re, DOTALL, on bytes decoded as latin-1); the
                     data up to the end of the match is consumed
  reject REGEX       fail if the data not yet consumed matches REGEX
  quiet SECONDS      nothing arrives and the connection stays open
  shut               shutdown(SHUT_WR): half-close our side
  eof                wait until the peer closes (EOF or reset); data still
                     unconsumed is ignored
  trickle TEXT SECONDS
                     send TEXT one byte every SECONDS, stopping early and
                     without failing when the peer closes (slow clients)
  sleep SECONDS      pause (the connection stays open)
  touch PATH         create PATH (tells a scenario that a step was reached)
  wait-file PATH     wait until PATH exists (the scenario says "go on")
  print              print the data not yet consumed to stdout

Without --timeout each waiting step gives up after $RAWCLIENT_TIMEOUT or
10 seconds.
"""

import os
import re
import socket
import struct
import sys
import time


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch != "\\" or i + 1 == len(s):
            out += ch.encode("latin-1")
            i += 1
            continue
        nx = s[i + 1]
        if nx == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
            continue
        out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0",
                "\\": b"\\"}.get(nx, b"\\" + nx.encode("latin-1"))
        i += 2
    return bytes(out)


def proxy_v2(src, dst, sport, dport):
    sig = b"\r\n\r\n\0\r\nQUIT\n"
    if ":" in src:
        fam = 0x21
        addrs = socket.inet_pton(socket.AF_INET6, src) + \
            socket.inet_pton(socket.AF_INET6, dst)
    else:
        fam = 0x11
        addrs = socket.inet_pton(socket.AF_INET, src) + \
            socket.inet_pton(socket.AF_INET, dst)
    payload = addrs + struct.pack("!HH", int(sport), int(dport))
    return sig + bytes([0x21, fam]) + struct.pack("!H", len(payload)) + \
        payload


def ws_text(text):
    data = text.encode()
    mask = b"\x11\x22\x33\x44"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    else:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    return head + mask + masked


class Client:
    def __init__(self, host, port, timeout):
        self.timeout = timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""        # received, not yet consumed
        self.seen = b""       # everything received
        self.closed = False

    def recv_some(self, deadline):
        """Reads what arrives before deadline; False on timeout."""
        if self.closed:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        self.seen += data
        return True

    def text(self):
        return self.buf.decode("latin-1")


def show(b, limit=3000):
    s = b.decode("latin-1")
    if len(s) > limit:
        s = s[:limit] + "...(%d more)" % (len(s) - limit)
    return repr(s)


def main(argv):
    timeout = float(os.environ.get("RAWCLIENT_TIMEOUT") or 10)
    if argv[:1] == ["--timeout"]:
        timeout = float(argv[1])
        argv = argv[2:]
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__)
        return 2
    host, port, steps = argv[0], int(argv[1]), argv[2:]
    try:
        cl = Client(host, port, timeout)
    except OSError as e:
        print("rawclient: cannot connect to %s:%s: %s" % (host, port, e),
              file=sys.stderr)
        return 1
    nargs = {"send": 1, "sendfile": 1, "proxy-v2": 4, "ws-text": 1,
             "expect": 1, "reject": 1, "quiet": 1, "shut": 0, "eof": 0,
             "sleep": 1, "touch": 1, "print": 0, "trickle": 2,
             "wait-file": 1}
    i = 0
    n = 0
    while i < len(steps):
        op = steps[i]
        if op not in nargs:
            print("rawclient: unknown step %r" % op, file=sys.stderr)
            return 2
        args = steps[i + 1:i + 1 + nargs[op]]
        i += 1 + nargs[op]
        n += 1
        what = "step %d (%s %s)" % (n, op, " ".join(repr(a) for a in args))

        def fail(msg):
            print("rawclient: %s failed: %s\n  unconsumed: %s\n"
                  "  received in all: %s%s" %
                  (what, msg, show(cl.buf), show(cl.seen),
                   " [connection closed]" if cl.closed else ""),
                  file=sys.stderr)
            return 1

        try:
            if op == "send":
                cl.sock.sendall(unescape(args[0]))
            elif op == "sendfile":
                with open(args[0], "rb") as f:
                    cl.sock.sendall(f.read())
            elif op == "proxy-v2":
                cl.sock.sendall(proxy_v2(*args))
            elif op == "ws-text":
                cl.sock.sendall(ws_text(args[0]))
            elif op == "expect":
                rx = re.compile(args[0], re.S)
                deadline = time.monotonic() + timeout
                while True:
                    m = rx.search(cl.text())
                    if m:
                        cl.buf = cl.buf[m.end():]
                        break
                    if not cl.recv_some(deadline):
                        return fail("no match for /%s/ %s" % (
                            args[0], "before the connection closed"
                            if cl.closed else "within %gs" % timeout))
            elif op == "reject":
                if re.search(args[0], cl.text(), re.S):
                    return fail("matched /%s/" % args[0])
            elif op == "quiet":
                deadline = time.monotonic() + float(args[0])
                before = len(cl.buf)
                while cl.recv_some(deadline):
                    pass
                if cl.closed:
                    return fail("the connection was closed")
                if len(cl.buf) != before:
                    return fail("data arrived")
            elif op == "shut":
                cl.sock.shutdown(socket.SHUT_WR)
            elif op == "eof":
                deadline = time.monotonic() + timeout
                while cl.recv_some(deadline):
                    pass
                if not cl.closed:
                    return fail("the connection is still open after %gs" %
                                timeout)
            elif op == "trickle":
                data = unescape(args[0])
                for k in range(len(data)):
                    if cl.closed:
                        break
                    try:
                        cl.sock.sendall(data[k:k + 1])
                    except OSError:
                        cl.closed = True
                        break
                    while cl.recv_some(time.monotonic() + float(args[1])):
                        pass
            elif op == "wait-file":
                deadline = time.monotonic() + timeout
                while not os.path.exists(args[0]):
                    if time.monotonic() > deadline:
                        return fail("%s did not appear within %gs" %
                                    (args[0], timeout))
                    time.sleep(0.05)
            elif op == "sleep":
                time.sleep(float(args[0]))
            elif op == "touch":
                open(args[0], "a").close()
            elif op == "print":
                sys.stdout.write(cl.text())
                sys.stdout.flush()
        except OSError as e:
            return fail("socket error: %s" % e)
    cl.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
