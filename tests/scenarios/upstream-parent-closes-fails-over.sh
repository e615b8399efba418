#!/bin/sh
# A parent that accepts connections and closes them before answering is
# marked down (reason reset) and the request goes to the next parent of
# the line: plain HTTP (sent again there, body included) and CONNECT both
# get their answer; the client never sees the first parent's failure.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
CLOSER=$(free_port)
# Accepts, reads a little, closes; at most 50 connections or 60 s.
spawn closer "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
s.settimeout(60)
for _ in range(50):
    c, _ = s.accept()
    c.settimeout(2)
    try:
        c.recv(65536)
    except OSError:
        pass
    print("closed one", flush=True)
    c.close()
' "$CLOSER"
eventually 5 port_listening "$CLOSER" || fail "the closing parent does not listen"
GOOD=$(free_port)
parent_pinhole_start GOOD <<EOF
listen 127.0.0.1:$GOOD
access-log $T/good-access.log squid
hosts-file $T/hosts
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
upstream-proxy http://127.0.0.1:$CLOSER http://127.0.0.1:$GOOD retry-after 1s
allow all
EOF
wait_admin

head -c 2000 /dev/zero | tr '\0' y >"$T/upload"
expect_status 200 --data-binary "@$T/upload" "http://www.origin.test:$WEB/echo"
expect_eq 2000 "$(json_field "$BODY" body_length)" "body length the origin saw"
log_line_matching " TCP_MISS/200 [0-9]+ POST http://www\.origin\.test:$WEB/echo - HIER_DIRECT/" "$T/good-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ POST http://www\.origin\.test:$WEB/echo - FIRSTUP_PARENT/127\.0\.0\.1 "
eventually 5 grep -q "parent proxy 127\.0\.0\.1:$CLOSER is down (closed the connection without answering)" \
	"$T/error.log" || fail "no warning that the closing parent is down: $(cat "$T/error.log")"

sleep 1.2 # retry-after: the closing parent is tried again
expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the tunnel"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS - HIER_DIRECT/" "$T/good-access.log"
expect_admin 200 /metrics
expect_match "^pinhole_parent_failures_total\{parent=\"127\.0\.0\.1:$CLOSER\",reason=\"reset\"\} 2$" "$BODY" "metrics"
expect_eq 2 "$(grep -c 'closed one' "$T/closer.out")" "connections the closing parent took"
pinhole_stop
