#!/usr/bin/python3
"""The recording origin of the smuggling corpus (stdlib only).

usage: recorder.py --log FILE [--port-file FILE] [--cert PEM --key PEM]

An HTTP/1.1 origin that reads what it receives the way RFC 9112 says, with
no leniency at all (CRLF only, no obs-fold, one Content-Length of digits,
Transfer-Encoding ending in chunked and never with Content-Length, chunk
lines and trailers by the grammar of 7.1), and appends one JSON line to the
log per event:

  request     a complete request: conn, n, method, target, version,
              headers, decoded body (sha256, length, first bytes), trailers,
              the raw bytes it came in, and auth when it carried or was
              answered with connection-bound authentication (NTLM/Negotiate)
  error       bytes it could not read as HTTP/1.1 (why, raw); it answers
              400 and closes, as a strict server would
  incomplete  the connection ended in the middle of a request

Every answer carries `X-Origin: recorder`, `X-Conn: ID` and `X-Request:
METHOD TARGET`, so a client can tell which request an answer is for, and
answers from the origin from answers pinhole makes itself.  What it answers:

  /resp/ID        the raw bytes of response variant ID of corpus.py, then
                  its late bytes, then keeps or closes the connection
  /ntlm/...       a server that trusts a connection once a request on it
                  carried `Authorization: NTLM ...` or `Negotiate ...` (an
                  NTLM negotiate message, TlRMTVNTUAAB..., gets a challenge
                  first), and answers 401 with `WWW-Authenticate: NTLM` and
                  `Negotiate` on a connection it does not trust
  /innocent/N     "innocent N", /fence/N "fence N"
  anything else   "ok"

`Expect: 100-continue` gets a 100 Continue before the body is read.
"""

import argparse
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # the source tree stays as it is
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import corpus  # noqa: E402
from origin import announce, bind_random  # noqa: E402

TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
REQUEST_LINE = re.compile(rb"(" + TOKEN + rb") ([\x21-\x7e]+) (HTTP/1\.[01])")
FIELD_NAME = re.compile(TOKEN)
FIELD_VALUE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")
CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*" + TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + TOKEN + rb"|" +
                        QUOTED + rb"))?)*)")
TRANSFER_CODING = re.compile(TOKEN + rb"(?:[ \t]*;[ \t]*" + TOKEN + rb"[ \t]*=[ \t]*(?:" + TOKEN + rb"|" + QUOTED +
                             rb"))*")
HEAD_MAX = 256 * 1024
LINE_MAX = 64 * 1024
BODY_KEEP = 64 * 1024


def esc(b, limit=800):
    """Bytes as printable text: CR, LF, TAB, NUL and other bytes escaped."""
    out = []
    for c in b[:limit]:
        if c == 13:
            out.append("\\r")
        elif c == 10:
            out.append("\\n")
        elif c == 9:
            out.append("\\t")
        elif c == 92:
            out.append("\\\\")
        elif 32 <= c < 127:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    s = "".join(out)
    if len(b) > limit:
        s += "...(%d more bytes)" % (len(b) - limit)
    return s


class Malformed(Exception):
    pass


class Ended(Exception):
    """The peer closed the connection in the middle of a message."""


class Log:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.lock = threading.Lock()

    def write(self, **rec):
        rec["t"] = round(time.time(), 4)
        line = (json.dumps(rec) + "\n").encode()
        with self.lock:
            os.write(self.fd, line)


class Reader:
    """Buffered strict reads; raw keeps the bytes of the message being read."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.raw = b""

    def fill(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        if not data:
            return False
        self.buf += data
        return True

    def take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        if len(self.raw) < 4096:
            self.raw += out[:4096]
        return out

    def line(self, what, limit=LINE_MAX):
        """One line ended by CRLF, without it.  A LF not preceded by CR, or a
        CR not followed by LF, is an error (RFC 9112 2.2 lets a recipient
        accept them; this one does not, so that it notices them)."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                break
            if len(self.buf) > limit:
                raise Malformed("%s longer than %d bytes" % (what, limit))
            if not self.fill():
                raise Ended()
        if i > limit:
            raise Malformed("%s longer than %d bytes" % (what, limit))
        if i == 0 or self.buf[i - 1:i] != b"\r":
            raise Malformed("bare LF in %s: %s" % (what, esc(self.buf[:i + 1], 200)))
        ln = self.take(i + 1)[:-2]
        if b"\r" in ln:
            raise Malformed("bare CR in %s: %s" % (what, esc(ln, 200)))
        return ln

    def exact(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise Ended()
        return self.take(n)

    def body(self, n, sink):
        """n bytes of content into sink, without holding them all."""
        while n > 0:
            if not self.buf and not self.fill():
                raise Ended()
            part = self.take(min(n, len(self.buf)))
            sink.add(part)
            n -= len(part)


class Body:
    def __init__(self):
        self.h = hashlib.sha256()
        self.n = 0
        self.kept = b""

    def add(self, b):
        self.h.update(b)
        self.n += len(b)
        if len(self.kept) < BODY_KEEP:
            self.kept += b[:BODY_KEEP - len(self.kept)]


def parse_field(ln, what):
    name, colon, value = ln.partition(b":")
    if not colon:
        raise Malformed("%s without a colon: %s" % (what, esc(ln, 200)))
    if not FIELD_NAME.fullmatch(name):
        raise Malformed("invalid %s name (whitespace before the colon, obs-fold or a control byte): %s" %
                        (what, esc(ln, 200)))
    if not FIELD_VALUE.fullmatch(value):
        raise Malformed("control byte in %s value: %s" % (what, esc(ln, 200)))
    return name.decode("latin-1"), value.strip(b" \t").decode("latin-1")


def read_head(rd):
    """The request line and fields, or None at a clean end of the stream."""
    while not rd.buf:
        if not rd.fill():
            return None
    rd.raw = b""
    first = rd.line("request line")
    if first == b"":
        raise Malformed("empty line where a request line was expected")
    m = REQUEST_LINE.fullmatch(first)
    if not m:
        raise Malformed("malformed request line: %s" % esc(first, 300))
    fields = []
    size = len(first)
    while True:
        ln = rd.line("header field")
        size += len(ln) + 2
        if size > HEAD_MAX:
            raise Malformed("request head larger than %d bytes" % HEAD_MAX)
        if ln == b"":
            break
        if ln[:1] in (b" ", b"\t"):
            raise Malformed("obs-fold (a header line starting with whitespace): %s" % esc(ln, 200))
        fields.append(parse_field(ln, "header field"))
    return m.group(1).decode("latin-1"), m.group(2).decode("latin-1"), m.group(3).decode(), fields


def all_values(fields, name):
    return [v for k, v in fields if k.lower() == name]


def list_items(values):
    return [x.strip(" \t") for v in values for x in v.split(",") if x.strip(" \t")]


def framing(version, fields):
    """('none'|'length'|'chunked', length), by RFC 9112 6.3, strictly."""
    te = all_values(fields, "transfer-encoding")
    cls = all_values(fields, "content-length")
    if te:
        if cls:
            raise Malformed("both Transfer-Encoding and Content-Length")
        if version == "HTTP/1.0":
            raise Malformed("Transfer-Encoding in an HTTP/1.0 request")
        codings = list_items(te)
        for c in codings:
            if not TRANSFER_CODING.fullmatch(c.encode("latin-1")):
                raise Malformed("malformed transfer coding %r" % c)
        names = [c.split(";")[0].strip(" \t").lower() for c in codings]
        if not names or names[-1] != "chunked" or names.count("chunked") != 1:
            raise Malformed("Transfer-Encoding %r does not end in one chunked" % ", ".join(te))
        return "chunked", 0
    if len(cls) > 1:
        raise Malformed("%d Content-Length fields" % len(cls))
    if cls:
        if not re.fullmatch(r"[0-9]+", cls[0]):
            raise Malformed("malformed Content-Length %r" % cls[0])
        return "length", int(cls[0])
    return "none", 0


def read_chunked(rd, body):
    """RFC 9112 7.1; returns the trailer fields."""
    while True:
        ln = rd.line("chunk-size line")
        m = CHUNK_LINE.fullmatch(ln)
        if not m:
            raise Malformed("malformed chunk-size line: %s" % esc(ln, 200))
        size = int(m.group(1), 16)
        if size == 0:
            break
        rd.body(size, body)
        if rd.exact(2) != b"\r\n":
            raise Malformed("chunk data not followed by CRLF")
    trailers = []
    size = 0
    while True:
        ln = rd.line("trailer field")
        size += len(ln) + 2
        if size > HEAD_MAX:
            raise Malformed("trailer section larger than %d bytes" % HEAD_MAX)
        if ln == b"":
            return trailers
        if ln[:1] in (b" ", b"\t"):
            raise Malformed("obs-fold in the trailer section: %s" % esc(ln, 200))
        trailers.append(parse_field(ln, "trailer field"))


def has_token(fields, name, token):
    return token in [x.lower() for x in list_items(all_values(fields, name))]


def response(status, reason, headers, body=b"", head_only=False):
    out = "HTTP/1.1 %d %s\r\n" % (status, reason)
    for k, v in headers:
        out += "%s: %s\r\n" % (k, v)
    out += "Content-Length: %d\r\n\r\n" % len(body)
    return out.encode("latin-1") + (b"" if head_only else body)


class Recorder:
    def __init__(self, log, tls):
        self.log = log
        self.tls = tls
        self.lock = threading.Lock()
        self.next_id = 0

    def serve(self, lsock):
        while True:
            c, _ = lsock.accept()
            with self.lock:
                self.next_id += 1
                cid = self.next_id
            threading.Thread(target=self.connection, args=(c, cid), daemon=True).start()

    def connection(self, c, cid):
        try:
            c.settimeout(120)
            if self.tls:
                c = self.tls.wrap_socket(c, server_side=True)
            rd = Reader(c)
            state = {"auth": None}
            n = 0
            while True:
                n += 1
                if not self.one_request(c, rd, cid, n, state):
                    break
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def one_request(self, c, rd, cid, n, state):
        """Reads and answers one request; False when the connection ends."""
        head = None
        try:
            head = read_head(rd)
            if head is None:
                return False
            method, target, version, fields = head
            kind, length = framing(version, fields)
            expects = has_token(fields, "expect", "100-continue") and version == "HTTP/1.1"
            if expects and (kind == "chunked" or length > 0):
                c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = Body()
            trailers = []
            if kind == "length":
                rd.body(length, body)
            elif kind == "chunked":
                trailers = read_chunked(rd, body)
        except Malformed as e:
            self.log.write(kind="error", conn=cid, n=n, why=str(e), raw=esc(rd.raw + rd.buf, 1500))
            c.sendall(response(400, "Bad Request", [("X-Origin", "recorder"), ("X-Conn", cid), ("Connection", "close")],
                               ("origin: %s\n" % e).encode("latin-1", "replace")))
            return False
        except Ended:
            self.log.write(kind="incomplete", conn=cid, n=n, head=head is not None,
                           raw=esc(rd.raw + rd.buf, 1500))
            return False
        auth = None
        for v in all_values(fields, "authorization"):
            scheme = v.split(" ", 1)[0].lower()
            if scheme in ("ntlm", "negotiate"):
                auth = scheme
        rec = dict(kind="request", conn=cid, n=n, method=method, target=target, version=version,
                   headers=fields, body_len=body.n, body_sha256=body.h.hexdigest(), body=esc(body.kept, 300),
                   trailers=trailers, raw=esc(rd.raw, 1200))
        keep = not has_token(fields, "connection", "close") and not (
            version == "HTTP/1.0" and not has_token(fields, "connection", "keep-alive"))
        path = target.split("?", 1)[0]
        common = [("X-Origin", "recorder"), ("X-Conn", cid), ("X-Request", "%s %s" % (method, target))]
        if not keep:
            common.append(("Connection", "close"))
        head_only = method == "HEAD"
        if path.startswith("/resp/"):
            self.log.write(**rec)
            return self.crafted(c, path[len("/resp/"):])
        if path.startswith("/ntlm/"):
            out, challenged = self.ntlm(fields, state, common, head_only)
            rec["auth"] = auth or ("challenge" if challenged else None)
            self.log.write(**rec)
            c.sendall(out)
            return keep
        self.log.write(**rec)
        for kind_ in ("innocent", "fence"):
            if path.startswith("/%s/" % kind_):
                c.sendall(response(200, "OK", common, ("%s %s\n" % (kind_, path.split("/")[2])).encode(), head_only))
                return keep
        c.sendall(response(200, "OK", common, b"ok\n", head_only))
        return keep

    def crafted(self, c, vid):
        v = corpus.RESPONSES.get(vid)
        if v is None:
            c.sendall(response(404, "Not Found", [("X-Origin", "recorder")], b"no such response variant\n"))
            return True
        c.sendall(v.origin.encode("latin-1"))
        if v.late:
            time.sleep(v.late_delay)
            c.sendall(v.late.encode("latin-1"))
        if v.after == "close":
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return False
        return True

    def ntlm(self, fields, state, common, head_only):
        """(answer, whether it is a connection-bound challenge)."""
        for v in all_values(fields, "authorization"):
            scheme, _, token = v.partition(" ")
            if scheme.lower() == "ntlm" and token.strip().startswith("TlRMTVNTUAAB"):
                hdrs = common + [("WWW-Authenticate", "NTLM TlRMTVNTUAACAAAADAAMADgAAAAFgomi")]
                return response(401, "Unauthorized", hdrs, b"ntlm challenge\n", head_only), True
            if scheme.lower() in ("ntlm", "negotiate"):
                state["auth"] = scheme.lower()
                return response(200, "OK", common, b"welcome alice\n", head_only), False
        if state["auth"]:
            return response(200, "OK", common, b"private data of alice\n", head_only), False
        hdrs = common + [("WWW-Authenticate", "NTLM"), ("WWW-Authenticate", "Negotiate")]
        return response(401, "Unauthorized", hdrs, b"who are you?\n", head_only), True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    lsock, port = bind_random(args.bind)
    announce(args.port_file, port)
    Recorder(Log(args.log), tls).serve(lsock)


if __name__ == "__main__":
    main()
