#!/usr/bin/python3
"""rawclient.py's steps inside a TLS session opened through a proxy (stdlib only).

usage: tlsclient.py [--timeout S] --ca FILE [--sni NAME] PROXYHOST PROXYPORT
                    TARGET STEP...

Connects to the proxy, sends `CONNECT TARGET HTTP/1.1`, and on a 200 starts
TLS in the tunnel, verifying the server's certificate against the CA bundle
FILE and the name NAME (default: TARGET's host; also the SNI).  Then runs
the steps of tests/lib/rawclient.py (send, expect, ws-text, eof, ...; not
shut) on the TLS session.  Exit 0 when every step passed, 1 otherwise (what
failed on stderr).
"""

import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rawclient  # noqa: E402

OPTS = {"ca": None, "sni": None, "target": None}


class TLSClient(rawclient.Client):
    def __init__(self, host, port, timeout):
        self.timeout = timeout
        raw = socket.create_connection((host, port), timeout=timeout)
        target = OPTS["target"]
        raw.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" %
                     (target, target)).encode("latin-1"))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = raw.recv(1)  # byte by byte: nothing of TLS is read here
            if not chunk:
                raise OSError("the proxy closed the connection during the "
                              "CONNECT (got %r)" % head)
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if not status.startswith(b"HTTP/1.1 200") and \
                not status.startswith(b"HTTP/1.0 200"):
            raise OSError("CONNECT %s answered %r" % (target, head))
        name = OPTS["sni"] or target.rsplit(":", 1)[0].strip("[]")
        ctx = ssl.create_default_context(cafile=OPTS["ca"])
        ctx.set_alpn_protocols(["http/1.1"])
        self.sock = ctx.wrap_socket(raw, server_hostname=name)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.seen = b""
        self.closed = False

    def recv_some(self, deadline):
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
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError):
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        self.seen += data
        return True


def main(argv):
    pre = []
    while argv and argv[0].startswith("--"):
        opt = argv[0][2:]
        if opt == "timeout":
            pre = ["--timeout", argv[1]]
        elif opt in ("ca", "sni"):
            OPTS[opt] = argv[1]
        else:
            print("tlsclient: unknown option --%s" % opt, file=sys.stderr)
            return 2
        argv = argv[2:]
    if len(argv) < 3 or not OPTS["ca"]:
        sys.stdout.write(__doc__)
        return 2
    OPTS["target"] = argv[2]
    rawclient.Client = TLSClient
    try:
        return rawclient.main(pre + argv[:2] + argv[3:])
    except (OSError, ssl.SSLError) as e:
        print("tlsclient: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
