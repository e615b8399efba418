#!/bin/sh
# With `timeout idle 3s`, an upload sent one byte a second for 7 s is
# activity: it reaches the origin whole and gets its 200.  A client that
# stops sending its body gets 408 naming the client; an origin that never
# answers a complete request gets 504 naming the origin.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
timeout idle 3s
allow all
EOF

# slow_post BYTES STOP_AFTER: POST /echo announcing BYTES, sent one byte a
# second, stopping after STOP_AFTER bytes; prints the answer's status line.
slow_post() {
	"$PY" - "$PH_PORT" "$WEB" "$1" "$2" <<'EOF'
import socket, sys, time
port, web, total, stop = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(("POST http://www.origin.test:%s/echo HTTP/1.1\r\nHost: www.origin.test:%s\r\n"
           "Content-Length: %d\r\nConnection: close\r\n\r\n" % (web, web, total)).encode())
for i in range(stop):
    time.sleep(1)
    s.sendall(b"x")
got = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    got += d
print(got.split(b"\r\n", 1)[0].decode())
print(got.split(b"\r\n\r\n", 1)[-1].decode(errors="replace"))
EOF
}

out=$(slow_post 7 7)
expect_match '^HTTP/1\.1 200 ' "$out" "a 7-second upload with timeout idle 3s"
expect_match '"body_length": 7' "$out" "what the origin received"

out=$(slow_post 100 2)
expect_match '^HTTP/1\.1 408 ' "$out" "a client that stopped sending its body"
expect_match 'client sent no more of its request body' "$out" "408 body"

expect_status 504 "http://www.origin.test:$WEB/slow?s=8"
expect_match 'did not answer within 3000 ms' "$BODY" "504 body"
pinhole_stop
