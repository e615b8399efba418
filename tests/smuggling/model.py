"""The vocabulary the smuggling corpus (corpus.py) is written in.

A variant is bytes a client or an origin sends through pinhole, and the one
outcome (or the few outcomes) that keeps every party reading the same
messages.  Request variants (Q) are sent by a client; response variants (S)
are what the recording origin answers to `GET /resp/ID`; pool variants (P)
script one client and then check what a second client is served.

Bytes are written as Python str (each character one byte, latin-1) with two
placeholders the runner fills in before sending: {T} is the request-target
prefix ("http://www.origin.test:PORT" through the plain proxy, "" inside an
inspected TLS session) and {H} the origin's host:port; {H2} names the same
origin under a second host name (plain mode only).
"""

PLAIN, INSPECT = "plain", "inspect"
BOTH = (PLAIN, INSPECT)

# Statuses pinhole may refuse a request with (RFC 9110 15.5.1, 15.5.14,
# 15.6.2, 15.6.6; RFC 6585 5), and the one it answers a bad response with.
REQUEST_REFUSALS = (400, 413, 414, 431, 501, 505)
BAD_GATEWAY = (502,)


class Req:
    """A request the origin must receive: method, origin-form target, the
    decoded body, and optionally header values it must (or, with None,
    must not) carry."""

    def __init__(self, method, target, body=b"", headers=None):
        self.method = method
        self.target = target
        self.body = body.encode("latin-1") if isinstance(body, str) else body
        self.headers = headers or {}

    def __repr__(self):
        return "%s %s (%d body bytes)" % (self.method, self.target, len(self.body))


def _reqs(items):
    out = []
    for it in items:
        out.append(it if isinstance(it, Req) else Req(*it))
    return out


class Expect:
    """forward: the origin receives exactly `reqs`, in order, and the client
    gets one answer from the origin for each.  refuse: pinhole answers with
    one of `statuses` (after the answers to `reqs`, forwarded first), closes
    the connection, and the origin receives no other complete request.
    either: one of the two."""

    def __init__(self, kind, reqs=(), statuses=()):
        self.kind = kind
        self.reqs = _reqs(reqs)
        self.statuses = tuple(statuses)

    def allows_forward(self):
        return self.kind in ("forward", "either")

    def allows_refuse(self):
        return self.kind in ("refuse", "either")

    def describe(self):
        each = ["%s %s" % (r.method if len(r.method) < 20 else r.method[:8] + "...", r.target) for r in self.reqs]
        fwd = ", ".join(each) if len(each) <= 3 else "%s, ... %d more ..., %s" % (each[0], len(each) - 2, each[-1])
        if self.kind == "forward":
            return "forward [%s]" % fwd
        st = "/".join(str(s) for s in self.statuses)
        if self.kind == "refuse":
            return "refuse %s" % st + (" after [%s]" % fwd if fwd else "")
        return "forward [%s] or refuse %s" % (fwd, st)


def forward(*reqs):
    return Expect("forward", reqs)


def refuse(*statuses, before=()):
    return Expect("refuse", before, statuses or (400,))


def either(fwd, *statuses):
    return Expect("either", fwd.reqs, statuses or (400,))


class Pause:
    """Between two sends: wait this long (the bytes leave in two writes)."""

    def __init__(self, seconds):
        self.seconds = seconds


class Await:
    """Between two sends: read until the client has received a match for
    this regex (e.g. an interim 100 Continue)."""

    def __init__(self, regex):
        self.regex = regex


class Q:
    """A request variant: what the client sends on one connection."""

    side = "request"

    def __init__(self, vid, send, expect, why, modes=BOTH, shut=False):
        self.id = vid
        self.send = send if isinstance(send, list) else [send]
        self.expect = expect
        self.why = why
        self.modes = modes
        self.shut = shut  # half-close after sending (the body never ends)


class Answer:
    """What the client must receive for a response variant: one final
    response with this status and body (1xx interims may come first)."""

    def __init__(self, status, body=b""):
        self.status = status
        self.body = body.encode("latin-1") if isinstance(body, str) else body


class S:
    """A response variant: the client sends `METHOD {T}/resp/ID`, the origin
    answers with `origin` (raw bytes), then sends `late` after `late_delay`
    seconds if given, and keeps the connection open or closes it (`after`).
    expect is an Answer, BAD_GATEWAY, or a tuple of both (either is fine)."""

    side = "response"

    def __init__(self, vid, origin, expect, why, method="GET", after="keep", late=None, late_delay=0.15,
                 modes=BOTH):
        self.id = vid
        self.origin = origin
        self.expect = expect if isinstance(expect, tuple) and not isinstance(expect[0], int) else (expect,)
        self.why = why
        self.method = method
        self.after = after
        self.late = late
        self.late_delay = late_delay
        self.modes = modes


class P:
    """A pool variant: client A runs its steps (a Q: send and expect), closes,
    then client B sends `probe` on its own connection and must get
    `probe_status`, on an origin connection that never carried A's
    connection-bound authentication."""

    side = "pool"

    def __init__(self, vid, send, expect, probe, probe_status, why, modes=BOTH):
        self.id = vid
        self.send = send if isinstance(send, list) else [send]
        self.expect = expect
        self.probe = probe
        self.probe_status = probe_status
        self.why = why
        self.modes = modes
        self.shut = False


def cl(body):
    """A Content-Length line for body (a str of latin-1 bytes)."""
    return "Content-Length: %d\r\n" % len(body)
