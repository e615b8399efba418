#!/usr/bin/python3
"""Sends the smuggling corpus through pinhole and checks what each side saw.

usage: run.py --mode plain|inspect --proxy HOST:PORT --origin NAME:PORT
              --log RECORDER_LOG [--origin2 NAME:PORT] [--ca PINHOLE_CA]
              [--only PATTERN[,PATTERN...]] [--results FILE] [--list] [--count]

NAME may hold %d: variant number N is sent to the origin named with N (all
of them resolving to the recording origin), so every variant has its own
origin connections in pinhole's pool.

For each variant of corpus.py that applies to the mode, on a connection of
its own (plain: to the proxy; inspect: CONNECT, then TLS with pinhole's
minted certificate, trusting --ca):

 1. the client sends the variant's bytes and reads the answers;
 2. if pinhole refused, it checks the status and that pinhole closed the
    connection; otherwise it sends one more request ("fence", Connection:
    close) and reads until the end, so any answer too many shows up;
 3. a second client on a new connection (the "innocent") asks the same
    origin for /innocent/NONCE and must get exactly that answer, whatever
    the first one left behind in pinhole's origin connection pool;
 4. it compares the recording origin's log (recorder.py) with the variant's
    expectation: the origin received exactly the requests expected (method,
    target, body, and named headers), or, for a refusal, no other complete
    request, and never bytes it could not read.

Prints one line per variant (PASS/FAIL, the expectation, and on failure what
the client and the origin received), then a summary; exits 1 if any failed.
"""

import argparse
import fnmatch
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # the source tree stays as it is
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from model import INSPECT, PLAIN, Answer, Await, Pause  # noqa: E402
from recorder import esc  # noqa: E402

ANSWER_TIMEOUT = 3.0  # for the answers to a variant's requests
CLOSE_TIMEOUT = 2.5   # for pinhole to close after a refusal


class Ctx:
    """Where to send a variant.  The origin names may hold %d, replaced by
    the variant's number (its place in corpus.ALL), so that every variant
    has an origin of its own in pinhole's connection pool (and a desync left
    behind by one cannot spill into the next), shared by its innocent
    client."""

    def __init__(self, args):
        self.mode = args.mode
        host, port = args.proxy.rsplit(":", 1)
        self.proxy = (host, int(port))
        self.origin = args.origin
        self.origin2 = args.origin2 or args.origin
        self.ca = args.ca
        self.log = args.log
        self._tls = None
        self.use(0)

    def use(self, n):
        """Addresses the origin of variant number n."""
        self.H = self.origin.replace("%d", str(n))
        self.H2 = self.origin2.replace("%d", str(n))
        self.origin_name = self.H.rsplit(":", 1)[0]
        self.T = "http://" + self.H if self.mode == PLAIN else ""

    def tls(self):
        """The client side of an inspected session: trusts pinhole's CA."""
        if not self._tls:
            self._tls = ssl.create_default_context(cafile=self.ca)
            self._tls.set_alpn_protocols(["http/1.1"])
        return self._tls

    def expand(self, s):
        s = s.replace("{H2}", self.H2).replace("{T}", self.T).replace("{H}", self.H)
        return s.encode("latin-1")


# ------------------------------------------------------------------ client


class Client:
    """One client connection to pinhole (inside an inspected TLS session in
    inspect mode)."""

    def __init__(self, ctx):
        self.buf = b""
        self.eof = False
        self.send_error = None
        raw = socket.create_connection(ctx.proxy, timeout=5)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx.mode == INSPECT:
            raw.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (ctx.H, ctx.H)).encode())
            head = b""
            while b"\r\n\r\n" not in head:
                ch = raw.recv(1)
                if not ch:
                    raise OSError("pinhole closed the connection during the CONNECT (got %r)" % head)
                head += ch
            if not re.match(rb"HTTP/1\.[01] 200 ", head):
                raise OSError("CONNECT %s answered %r" % (ctx.H, head))
            raw = ctx.tls().wrap_socket(raw, server_hostname=ctx.origin_name)
        self.sock = raw

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.send_error = str(e)

    def recv(self, deadline):
        """Reads what arrives before deadline; False on timeout or EOF."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except (OSError, ssl.SSLError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def shut(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Resp:
    def __init__(self, status, headers, body, raw):
        self.status = status
        self.headers = headers
        self.body = body
        self.raw = raw
        self.interim = 100 <= status < 200 and status != 101

    def get(self, name):
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    @property
    def own(self):
        """Made by pinhole itself, not relayed from the origin: the
        recording origin marks its answers, and pinhole adds Via to every
        answer it relays."""
        return self.get("x-origin") is None and self.get("via") is None

    def short(self):
        first = self.body.split(b"\n", 1)[0]
        return "%d%s %s" % (self.status, " (pinhole)" if self.own else "", esc(first, 120))


HEAD_END = re.compile(rb"\r?\n\r?\n")


def parse_responses(buf, eof, head_at):
    """Reads buf as a client would.  Returns (responses, rest, state):
    state is 'done' (all read), 'partial' (a response is incomplete),
    'garbage' (not a status line) or 'tunnel' (bytes after a 101)."""
    out = []
    pos = 0
    finals = 0
    while pos < len(buf):
        m = HEAD_END.search(buf, pos)
        if not m:
            return out, buf[pos:], "partial" if re.match(rb"HTTP/", buf[pos:pos + 5] or b"HTTP/") else "garbage"
        lines = re.split(rb"\r?\n", buf[pos:m.start()])
        sm = re.match(rb"HTTP/1\.[01] (\d{3})(?: .*)?$", lines[0])
        if not sm:
            return out, buf[pos:], "garbage"
        status = int(sm.group(1))
        headers = []
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            headers.append((k.strip().decode("latin-1").lower(), v.strip().decode("latin-1")))
        start = m.end()
        r = Resp(status, headers, b"", b"")
        if r.interim:
            r.raw = buf[pos:start]
            out.append(r)
            pos = start
            continue
        te = [x.strip().lower() for k, v in headers if k == "transfer-encoding" for x in v.split(",")]
        cls = [v for k, v in headers if k == "content-length"]
        if finals in head_at or status in (204, 304, 101):
            end = start
        elif te and te[-1] == "chunked":
            body, end = dechunk(buf, start)
            if end is None:
                return out, buf[pos:], "partial"
            r.body = body
        elif cls:
            try:
                n = int(cls[0])
            except ValueError:
                return out, buf[pos:], "garbage"
            if len(buf) - start < n:
                return out, buf[pos:], "partial"
            r.body = buf[start:start + n]
            end = start + n
        else:
            if not eof:
                return out, buf[pos:], "partial"
            r.body = buf[start:]
            end = len(buf)
        r.raw = buf[pos:end]
        out.append(r)
        finals += 1
        pos = end
        if status == 101:
            return out, buf[pos:], "tunnel" if pos < len(buf) else "done"
    return out, b"", "done"


def dechunk(buf, pos):
    body = b""
    while True:
        i = buf.find(b"\n", pos)
        if i < 0:
            return None, None
        size = buf[pos:i].split(b";")[0].strip()
        try:
            n = int(size, 16)
        except ValueError:
            return None, None
        pos = i + 1
        if n == 0:
            break
        if len(buf) < pos + n + 2:
            return None, None
        body += buf[pos:pos + n]
        pos += n + 2
    while True:
        i = buf.find(b"\n", pos)
        if i < 0:
            return None, None
        ln = buf[pos:i].strip(b"\r")
        pos = i + 1
        if not ln:
            return body, pos


class Talk:
    """One client's exchange and what it saw."""

    def __init__(self):
        self.client = None
        self.resps = []
        self.rest = b""
        self.state = "done"
        self.timed_out = False
        self.fence = None
        self.closed_after_refusal = None
        self.error = None

    @property
    def finals(self):
        return [r for r in self.resps if not r.interim]

    def received(self):
        return esc(self.client.buf if self.client else b"", 1500)


def read_until(c, talk, head_at, stop, timeout):
    deadline = time.monotonic() + timeout
    while True:
        talk.resps, talk.rest, talk.state = parse_responses(c.buf, c.eof, head_at)
        if c.eof or stop(talk):
            return
        if not c.recv(deadline) and not c.eof:
            talk.timed_out = True
            talk.resps, talk.rest, talk.state = parse_responses(c.buf, c.eof, head_at)
            return


def converse(ctx, steps, stop, head_at=(), shut=False, fence_delay=0.0):
    """Runs steps on a new client connection, reads until stop(talk), then
    either waits for the close that follows a refusal, or sends the fence
    request and reads to the end."""
    talk = Talk()
    try:
        c = Client(ctx)
    except (OSError, ssl.SSLError) as e:
        talk.error = "could not open a client connection: %s" % e
        return talk
    talk.client = c
    await_from = 0
    try:
        for st in steps:
            if isinstance(st, Pause):
                time.sleep(st.seconds)
            elif isinstance(st, Await):
                rx = re.compile(st.regex.encode("latin-1"), re.S)
                deadline = time.monotonic() + ANSWER_TIMEOUT
                while True:
                    m = rx.search(c.buf, await_from)
                    if m:
                        await_from = m.end()
                        break
                    if not c.recv(deadline):
                        talk.error = "no /%s/ from pinhole before %s" % (
                            st.regex, "the connection closed" if c.eof else "the timeout")
                        talk.resps, talk.rest, talk.state = parse_responses(c.buf, c.eof, head_at)
                        return talk
            else:
                c.send(ctx.expand(st))
        if shut:
            c.shut()
        read_until(c, talk, head_at, stop, ANSWER_TIMEOUT)
        finals = talk.finals
        if finals and finals[-1].own:
            # A refusal: pinhole must close, and say nothing more.
            deadline = time.monotonic() + CLOSE_TIMEOUT
            while c.recv(deadline):
                pass
            talk.closed_after_refusal = c.eof
            talk.resps, talk.rest, talk.state = parse_responses(c.buf, c.eof, head_at)
        elif not c.eof and not talk.timed_out and not shut and talk.state == "done":
            if fence_delay:
                time.sleep(fence_delay)
            talk.fence = uuid.uuid4().hex[:12]
            c.send(ctx.expand("GET {T}/fence/%s HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n" % talk.fence))
            read_until(c, talk, head_at, lambda t: False, ANSWER_TIMEOUT)
            if not c.eof:
                talk.timed_out = True
        elif not c.eof:
            read_until(c, talk, head_at, lambda t: False, ANSWER_TIMEOUT if shut else 0.2)
    except (OSError, ssl.SSLError) as e:
        talk.error = "client connection failed: %s" % e
    finally:
        c.close()
    if talk.closed_after_refusal is None and any(r.own for r in talk.finals):
        talk.closed_after_refusal = c.eof
    return talk


# ------------------------------------------------------------------ origin log


def log_append(path, rec):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(rec) + "\n").encode())
    finally:
        os.close(fd)


def log_since(path, token, offset=0):
    """Records after the mark carrying token (at or after byte offset), split
    at later marks: {phase: [records]}."""
    phases = {}
    cur = None
    with open(path, encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("kind") == "mark":
                cur = rec["phase"] if rec.get("token") == token else None
                if cur:
                    phases.setdefault(cur, [])
                continue
            if cur:
                phases[cur].append(rec)
    return phases


def wait_for_record(path, token, offset, phase, target, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recs = log_since(path, token, offset).get(phase, [])
        if any(r.get("kind") == "request" and r.get("target") == target for r in recs):
            break
        time.sleep(0.01)
    time.sleep(0.02)  # anything the same bytes made the origin write meanwhile


def describe_records(recs):
    out = []
    for r in recs:
        if r["kind"] == "request":
            out.append("conn %s: %s %s, %d body bytes %r%s" % (
                r["conn"], r["method"][:40], r["target"][:100], r["body_len"], r["body"][:80],
                ", auth " + r["auth"] if r.get("auth") else ""))
            out.append("    raw: %s" % r["raw"][:600])
        elif r["kind"] in ("error", "incomplete"):
            out.append("conn %s: %s%s" % (r["conn"], r["kind"], ": " + r["why"] if r.get("why") else ""))
            out.append("    raw: %s" % r["raw"][:600])
    return out or ["(nothing)"]


# ------------------------------------------------------------------ checks


def req_matches(ctx, want, rec):
    """'' when the origin's record is the request wanted, else the difference."""
    if rec["method"] != want.method or rec["target"] != want.target:
        return "expected %s %s, got %s %s" % (want.method[:40], want.target, rec["method"][:40], rec["target"][:100])
    if rec["body_sha256"] != hashlib.sha256(want.body).hexdigest():
        return "%s %s: body %r (%d bytes), expected %r" % (want.method[:40], want.target, rec["body"][:100],
                                                           rec["body_len"], esc(want.body, 100))
    for name, value in want.headers.items():
        got = [v for k, v in rec["headers"] if k.lower() == name]
        if value is None and got:
            return "%s %s: the origin received %s: %s" % (want.method[:40], want.target, name, got[0])
        if value is not None:
            value = ctx.expand(value).decode("latin-1")
            if got != [value]:
                return "%s %s: %s is %r, expected %r" % (want.method[:40], want.target, name, got, value)
    return ""


def answers(ctx, resps, wants):
    """'' when resps are the origin's answers to wants, in order."""
    for i, (r, w) in enumerate(zip(resps, wants)):
        xr = r.get("x-request")
        if r.own or xr != "%s %s" % (w.method, w.target):
            return "answer %d is %s for %r, expected the origin's answer to %s %s" % (
                i + 1, r.short(), xr, w.method[:40], w.target)
    return ""


class Verdict:
    def __init__(self):
        self.problems = []
        self.notes = []

    def fail(self, msg):
        self.problems.append(msg)


def outcome(talk):
    """What the client saw, in a few words."""
    finals = [r for r in talk.finals if not (r.get("x-request") or "").startswith("GET /fence/")]
    if not finals:
        return "no answer" if not talk.client or not talk.client.buf else "an incomplete answer"
    own = [r for r in finals if r.own]
    if own:
        return "refused %d" % own[0].status
    return "answered %s" % "/".join(str(r.status) for r in finals)


def check_client_origin(ctx, v, talk, recs, vd):
    """The request side of a Q or P variant."""
    exp = v.expect
    reqs = [r for r in recs if r["kind"] == "request" and not r["target"].startswith("/fence/")]
    fence_recs = [r for r in recs if r["kind"] == "request" and r["target"].startswith("/fence/")]
    for r in recs:
        if r["kind"] == "error":
            vd.fail("the origin could not read what pinhole sent: %s" % r["why"])
    finals = talk.finals
    own = [i for i, r in enumerate(finals) if r.own]
    if talk.error:
        vd.fail(talk.error)
    if own:
        k = own[0]
        refusal = finals[k]
        before = exp.reqs if exp.kind == "refuse" else []
        if not exp.allows_refuse():
            vd.fail("pinhole refused with %s; expected it forwarded" % refusal.short())
            return
        if refusal.status not in exp.statuses:
            vd.fail("pinhole answered %s; expected one of %s" % (refusal.short(), "/".join(map(str, exp.statuses))))
        if k != len(before):
            vd.fail("the refusal came as answer %d; expected it after %d answers" % (k + 1, len(before)))
        else:
            d = answers(ctx, finals[:k], before)
            if d:
                vd.fail(d)
        if len(finals) > k + 1 or talk.rest:
            vd.fail("more bytes after the refusal: %s" % esc(b"".join(r.raw for r in finals[k + 1:]) + talk.rest,
                                                            300))
        if not talk.closed_after_refusal:
            vd.fail("pinhole left the connection open after its %d (a half-open connection)" % refusal.status)
        if len(reqs) != len(before):
            vd.fail("the origin received %d request(s); expected %d" % (len(reqs), len(before)))
        else:
            for w, r in zip(before, reqs):
                d = req_matches(ctx, w, r)
                if d:
                    vd.fail("the origin received something else: " + d)
        for r in recs:
            if r["kind"] == "incomplete":
                vd.notes.append("the origin saw the start of a request, then pinhole closed (conn %s)" % r["conn"])
        return
    # No refusal: pinhole forwarded (or hung).
    if not exp.allows_forward():
        if talk.timed_out and not finals:
            vd.fail("no answer within %gs; expected a refusal (%s)" % (ANSWER_TIMEOUT, "/".join(
                map(str, exp.statuses))))
        else:
            vd.fail("pinhole forwarded; expected a refusal (%s)" % "/".join(map(str, exp.statuses)))
        if reqs:
            vd.fail("the origin received %d request(s): %s" % (len(reqs), ", ".join(
                "%s %s (%d body bytes)" % (r["method"][:40], r["target"][:100], r["body_len"]) for r in reqs)))
        return
    wants = exp.reqs
    n = len(wants)
    if len(finals) < n:
        vd.fail("the client got %d answer(s) of %d%s" % (
            len(finals), n, " (no answer within %gs)" % ANSWER_TIMEOUT if talk.timed_out else
            " before the connection closed"))
    d = answers(ctx, finals[:n], wants)
    if d:
        vd.fail(d)
    extra = finals[n:]
    if talk.fence:
        fence = "GET /fence/%s" % talk.fence
        if extra and extra[0].get("x-request") == fence:
            extra = extra[1:]
        elif not talk.client.eof or extra:
            vd.fail("the answer to a further request on the same connection was not its own: %s" % (
                extra[0].short() if extra else "none"))
    if extra:
        vd.fail("the client got %d answer(s) too many: %s" % (len(extra), "; ".join(r.short() for r in extra)))
    if talk.state not in ("done",) or talk.rest:
        vd.fail("the client received bytes that are no answer (%s): %s" % (talk.state, esc(talk.rest, 300)))
    if len(reqs) != n:
        vd.fail("the origin received %d request(s); expected %d" % (len(reqs), n))
    for w, r in zip(wants, reqs):
        d = req_matches(ctx, w, r)
        if d:
            vd.fail("the origin received something else: " + d)
    for r in recs:
        if r["kind"] == "incomplete":
            vd.fail("the origin received an incomplete request (conn %s)" % r["conn"])
    if talk.fence and len(fence_recs) > 1:
        vd.fail("the origin received the fence request %d times" % len(fence_recs))


def check_response(ctx, v, talk, recs, vd):
    """The client side of an S variant."""
    reqs = [r for r in recs if r["kind"] == "request" and not r["target"].startswith("/fence/")]
    for r in recs:
        if r["kind"] in ("error", "incomplete"):
            vd.fail("the origin %s: %s" % ("could not read what pinhole sent" if r["kind"] == "error"
                                           else "saw an incomplete request", r.get("why", r["raw"][:200])))
    target = "/resp/" + v.id
    if [(r["method"], r["target"]) for r in reqs] != [(v.method, target)]:
        vd.fail("the origin received %s; expected one %s %s" % (
            [(r["method"], r["target"]) for r in reqs] or "nothing", v.method, target))
    if talk.error:
        vd.fail(talk.error)
        return
    finals = talk.finals
    want_502 = any(e is not None and not isinstance(e, Answer) for e in v.expect)
    want = [e for e in v.expect if isinstance(e, Answer)]
    if not finals:
        if talk.state == "partial" and talk.client.eof and talk.rest and want_502:
            vd.notes.append("pinhole had already sent the head: the client saw the response cut short")
            return
        vd.fail("the client got no complete answer (%s%s): %s" % (
            "the connection closed" if talk.client.eof else "timeout",
            "; expected 502" if want_502 else "", talk.received() or "nothing"))
        return
    first = finals[0]
    if first.own and first.status == 502 and want_502:
        if len(finals) > 1 or talk.rest:
            vd.fail("more bytes after the 502: %s" % esc(b"".join(r.raw for r in finals[1:]) + talk.rest, 300))
        if not talk.closed_after_refusal:
            vd.fail("pinhole left the connection open after its 502")
        return
    ok = [a for a in want if not first.own and first.status == a.status and first.body == a.body]
    if not ok:
        exp = " or ".join(["%d %r" % (a.status, a.body) for a in want] + (["502 from pinhole"] if want_502 else []))
        vd.fail("the client got %s; expected %s" % (first.short(), exp))
        return
    extra = finals[1:]
    if talk.fence:
        if extra and extra[0].get("x-request") == "GET /fence/%s" % talk.fence and \
                extra[0].body == ("fence %s\n" % talk.fence).encode():
            extra = extra[1:]
        elif extra and extra[0].own and extra[0].status == 502 and talk.client.eof:
            # pinhole saw the origin out of step and refused the next
            # request rather than answer it with someone else's bytes.
            vd.notes.append("the next request got pinhole's 502 and the connection closed")
            extra = extra[1:]
        elif extra or not talk.client.eof:
            vd.fail("the answer to the next request on the same connection was not its own: %s" % (
                extra[0].short() if extra else "none"))
            extra = extra[1:]
    if extra:
        vd.fail("the client got %d answer(s) too many: %s" % (len(extra), "; ".join(r.short() for r in extra)))
    if talk.state == "tunnel":
        vd.fail("pinhole switched the connection to a tunnel: %s" % esc(talk.rest, 200))
    elif talk.state != "done" or talk.rest:
        vd.fail("the client received bytes that are no answer (%s): %s" % (talk.state, esc(talk.rest, 300)))


def check_probe(ctx, v, probe, recs, vd, nonce, tainted):
    finals = probe.finals
    if probe.error:
        vd.fail("innocent client: " + probe.error)
        return
    if v.side == "pool":
        if len(finals) != 1 or finals[0].status != v.probe_status:
            vd.fail("the second client got %s; expected %d" % (
                "; ".join(r.short() for r in finals) or "nothing", v.probe_status))
        mine = [r for r in recs if r["kind"] == "request"]
        for r in mine:
            if r["conn"] in tainted:
                vd.fail("the second client's request went out on origin connection %s, which had carried "
                        "the first client's %s authentication" % (r["conn"], tainted[r["conn"]]))
        return
    target = "/innocent/" + nonce
    good = (len(finals) == 1 and finals[0].status == 200 and not finals[0].own and
            finals[0].get("x-request") == "GET " + target and finals[0].body == ("innocent %s\n" % nonce).encode())
    if not good or probe.rest:
        vd.fail("the innocent client's answer was not its own: %s" % (
            probe.received() if probe.client else "nothing"))
    other = [r for r in recs if not (r["kind"] == "request" and r["target"] == target)]
    if other:
        vd.fail("after the variant, the origin also received: %s" % " | ".join(describe_records(other)[::2]))


# ------------------------------------------------------------------ driver


def run_variant(ctx, v):
    token = uuid.uuid4().hex
    vd = Verdict()
    offset = os.path.getsize(ctx.log)
    log_append(ctx.log, {"kind": "mark", "token": token, "phase": "client", "variant": v.id})
    if v.side == "response":
        head_at = {0} if v.method == "HEAD" else set()
        req = "%s {T}/resp/%s HTTP/1.1\r\nHost: {H}\r\n\r\n" % (v.method, v.id)
        talk = converse(ctx, [req], lambda t: len(t.finals) >= 1, head_at,
                        fence_delay=(v.late_delay + 0.5) if v.late else 0.0)
    else:
        exp = v.expect
        want = len(exp.reqs) if exp.allows_forward() else len(exp.reqs) + 1
        head_at = {i for i, r in enumerate(exp.reqs) if r.method == "HEAD"}
        talk = converse(ctx, v.send, lambda t: any(r.own for r in t.finals) or len(t.finals) >= max(want, 1),
                        head_at, shut=v.shut)
    time.sleep(0.02)  # what the variant's bytes still make the origin log
    log_append(ctx.log, {"kind": "mark", "token": token, "phase": "probe", "variant": v.id})
    nonce = uuid.uuid4().hex[:12]
    if v.side == "pool":
        probe = converse(ctx, [v.probe], lambda t: len(t.finals) >= 1)
        probe_target = "/ntlm/private"
    else:
        probe = converse(ctx, ["GET {T}/innocent/%s HTTP/1.1\r\nHost: {H}\r\nConnection: close\r\n\r\n" % nonce],
                         lambda t: len(t.finals) >= 1)
        probe_target = "/innocent/" + nonce
    wait_for_record(ctx.log, token, offset, "probe", probe_target)
    phases = log_since(ctx.log, token, offset)
    recs, precs = phases.get("client", []), phases.get("probe", [])
    # A connection pinhole closed mid-request may be logged a moment late.
    recs += [r for r in precs if r["kind"] == "incomplete"]
    precs = [r for r in precs if r["kind"] != "incomplete"]
    if v.side == "response":
        check_response(ctx, v, talk, recs, vd)
    else:
        check_client_origin(ctx, v, talk, recs, vd)
    tainted = {r["conn"]: r["auth"] for r in recs if r.get("auth")}
    check_probe(ctx, v, probe, precs, vd, nonce, tainted)
    return vd, talk, probe, recs, precs


def expectation(v):
    if v.side == "response":
        parts = []
        for e in v.expect:
            parts.append("%d %r" % (e.status, e.body) if isinstance(e, Answer) else "502")
        return "answer " + " or ".join(parts)
    if v.side == "pool":
        return v.expect.describe() + ", then a second client gets %d" % v.probe_status
    return v.expect.describe()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=[PLAIN, INSPECT], default=PLAIN)
    ap.add_argument("--proxy")
    ap.add_argument("--origin")
    ap.add_argument("--origin2")
    ap.add_argument("--ca")
    ap.add_argument("--log")
    ap.add_argument("--only", help="comma-separated variant ids or shell patterns")
    ap.add_argument("--results", help="write the outcome of every variant here (JSON)")
    ap.add_argument("--list", action="store_true", help="list the variants of the mode and exit")
    ap.add_argument("--count", action="store_true", help="print the number of variants in the corpus and exit")
    args = ap.parse_args()
    if args.count:
        print(len(corpus.ALL))
        return 0
    variants = [v for v in corpus.ALL if args.mode in v.modes]
    if args.only:
        pats = args.only.split(",")
        variants = [v for v in variants if any(fnmatch.fnmatch(v.id, p) for p in pats)]
    if args.list:
        for v in variants:
            print("%-8s %-45s %s\n         %s" % (v.side, v.id, expectation(v), v.why))
        return 0
    if not (args.proxy and args.origin and args.log) or (args.mode == INSPECT and not args.ca):
        ap.error("--proxy, --origin and --log are needed (and --ca with --mode inspect)")
    if not variants:
        print("no variant matches %r" % args.only)
        return 2
    ctx = Ctx(args)
    t0 = time.monotonic()
    results = []
    failed = []
    for v in variants:
        t = time.monotonic()
        ctx.use(corpus.ALL.index(v) + 1)
        vd, talk, probe, recs, precs = run_variant(ctx, v)
        ok = not vd.problems
        print("%s %s [%s] expected %s; %s (%.2fs)" % ("PASS" if ok else "FAIL", v.id, v.side, expectation(v),
                                                        outcome(talk), time.monotonic() - t))
        for n in vd.notes:
            print("     note: %s" % n)
        if not ok:
            failed.append(v.id)
            print("     why: %s" % v.why)
            for p in vd.problems:
                print("     - %s" % p)
            print("     client received: %s" % (talk.received() or "nothing"))
            print("     origin received:")
            for ln in describe_records(recs):
                print("       " + ln)
            if probe.client and probe.client.buf and (v.side == "pool" or any("innocent" in p for p in vd.problems)):
                print("     second client received: %s" % probe.received())
        sys.stdout.flush()
        results.append({"id": v.id, "side": v.side, "mode": args.mode, "ok": ok, "expect": expectation(v),
                        "problems": vd.problems, "notes": vd.notes, "client": talk.received(),
                        "origin": describe_records(recs), "probe": probe.received()})
    sides = {}
    for v in variants:
        sides[v.side] = sides.get(v.side, 0) + 1
    print("smuggling corpus (%s): %d variants (%s) in %.1fs: %d passed, %d failed%s" % (
        args.mode, len(variants), ", ".join("%d %s" % (n, s) for s, n in sorted(sides.items())),
        time.monotonic() - t0, len(variants) - len(failed), len(failed),
        ": " + " ".join(failed) if failed else ""))
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
