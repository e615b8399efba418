#!/bin/sh
# `pinhole report` refuses what an admin interface should not answer, with
# a sentence naming the instance and the cause: a redirect (not followed:
# it says where it points), a report larger than 32 MiB (announced by
# Content-Length, or chunked), a header larger than 64 KiB, something that
# is not HTTP on the port (an SSH server), and a connection closed without
# an answer.  Nothing was fetched: exit 2.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

P=$(free_port)     # HTTP, one misbehaviour per path
SSH=$(free_port)   # sends an SSH banner
CLOSE=$(free_port) # reads the request and closes

cat >"$T/bad_server.py" <<'EOF'
import http.server, socket, sys, threading

http_port, ssh_port, close_port = (int(a) for a in sys.argv[1:4])
MiB = 1 << 20

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        sys.stderr.write("%s\n" % self.requestline)
        try:
            getattr(self, "answer_" + self.path.split("/")[1])()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def answer_moved(self):
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:%d/elsewhere/report.json" % http_port)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer_big(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(32 * MiB + 1))
        self.end_headers()
        for _ in range(33):
            self.wfile.write(b" " * MiB)

    def answer_bigchunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(33):
            self.wfile.write(b"%x\r\n%s\r\n" % (MiB, b" " * MiB))
        self.wfile.write(b"0\r\n\r\n")

    def answer_bighead(self):
        self.send_response(200)
        for i in range(70):
            self.send_header("X-Filler-%d" % i, "x" * 1024)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, fmt, *args):
        pass

def raw(port, data):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        if data:
            c.sendall(data)
        # The request is read before closing, so the close is not a reset.
        got = b""
        while b"\r\n\r\n" not in got:
            more = c.recv(4096)
            if not more:
                break
            got += more
        c.close()

threading.Thread(target=raw, args=(ssh_port, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), daemon=True).start()
threading.Thread(target=raw, args=(close_port, b""), daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", http_port), Handler).serve_forever()
EOF
spawn bad "$PY" "$T/bad_server.py" "$P" "$SSH" "$CLOSE"
for p in "$P" "$SSH" "$CLOSE"; do
	eventually 10 port_listening "$p" || fail "the test server does not listen on $p: $(cat "$T/bad.err")"
done

run_pinhole report --admin "http://127.0.0.1:$P/moved" --admin "http://127.0.0.1:$P/big" \
	--admin "http://127.0.0.1:$P/bigchunked" --admin "http://127.0.0.1:$P/bighead" \
	--admin "http://127.0.0.1:$SSH" --admin "http://127.0.0.1:$CLOSE"
expect_eq 2 "$RC" "exit status when nothing usable was answered"
expect_eq "" "$OUT" "stdout"
expect_match "^pinhole report: 127\.0\.0\.1:$P/moved: HTTP 302 Found \(redirects are not followed; it points to http://127\.0\.0\.1:$P/elsewhere/report\.json\)$" \
	"$ERR" "a redirect"
expect_no_match '/elsewhere/' "$(cat "$T/bad.err")" "the redirect was not followed"
expect_match "^pinhole report: 127\.0\.0\.1:$P/big: answer larger than 32 MiB$" "$ERR" "Content-Length over 32 MiB"
expect_match "^pinhole report: 127\.0\.0\.1:$P/bigchunked: answer larger than 32 MiB$" "$ERR" "chunked over 32 MiB"
expect_match "^pinhole report: 127\.0\.0\.1:$P/bighead: answer header larger than 64 KiB$" "$ERR" "a header over 64 KiB"
expect_match "^pinhole report: 127\.0\.0\.1:$SSH: not an HTTP answer \(it starts with 'SSH-2\.0-OpenSSH_9\.2p1 Debian-2'\): is this the admin address\?$" \
	"$ERR" "an SSH server"
expect_match "^pinhole report: 127\.0\.0\.1:$CLOSE: the connection was closed without an answer$" "$ERR" \
	"closed without an answer"
expect_match '^pinhole report: no instance answered$' "$ERR" "final line"
expect_eq 7 "$(grep -c . <<<"$ERR")" "lines on stderr: $ERR"
