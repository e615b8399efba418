#!/bin/sh
# An HTTPS proxy listener with proxy-protocol: the PROXY header comes
# before the TLS handshake, as HAProxy sends it in front of the client's
# bytes.  curl through HAProxy (send-proxy-v2) to the listener is served;
# a client sending a PROXY v1 header and its ClientHello in one segment is
# served too, and the access log shows the address from the header.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"

command -v haproxy >/dev/null || skip "needs haproxy (apt-get install haproxy)"
make_proxy_cert
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

HAP=$(free_port)
cat >"$T/haproxy.cfg" <<EOF
global
	maxconn 100
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
listen front
	bind 127.0.0.1:$HAP
	server pinhole 127.0.0.1:$PH_PORT send-proxy-v2
EOF
spawn haproxy haproxy -db -f "$T/haproxy.cfg"
eventually 10 port_listening "$HAP" || fail "haproxy does not listen on $HAP: $(cat "$T/haproxy.err")"

code=$(curl -q -sS --max-time 15 -x "https://$PXY_NAME:$HAP" --resolve "$PXY_NAME:$HAP:127.0.0.1" \
	--proxy-cacert "$T/ca.pem" -o "$T/hap.body" -w '%{http_code}' "http://www.origin.test:$WEB/hello" \
	2>"$T/hap.curlerr")
expect_eq 200 "$code" "status through haproxy and the HTTPS listener ($(cat "$T/hap.curlerr"))"
expect_eq "hello from the origin" "$(cat "$T/hap.body")" "body through haproxy and the HTTPS listener"
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

# The PROXY header and the ClientHello in one send: what pinhole read with
# the header goes to the TLS session first.
"$PY" - "$PH_PORT" "$T/ca.pem" "$WEB" >"$T/pp.out" 2>&1 <<'EOF' || fail "PROXY v1 + TLS client: $(cat "$T/pp.out")"
import socket, ssl, sys
port, ca, web = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="proxy.test")
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
sock.sendall(b"PROXY TCP4 203.0.113.9 127.0.0.1 5555 443\r\n" + out.read())


def pump():
    data = sock.recv(65536)
    if not data:
        raise SystemExit("the listener closed the connection")
    inc.write(data)


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        sock.sendall(out.read())
        pump()
sock.sendall(out.read())
tls.write(("GET http://www.origin.test:%s/hello HTTP/1.1\r\nHost: www.origin.test:%s\r\n"
           "Connection: close\r\n\r\n" % (web, web)).encode())
sock.sendall(out.read())
answer = b""
while b"hello from the origin\n" not in answer:
    try:
        answer += tls.read(65536)
    except ssl.SSLWantReadError:
        sock.sendall(out.read())
        pump()
print(answer.split(b"\r\n", 1)[0].decode())
EOF
expect_eq "HTTP/1.1 200 OK" "$(cat "$T/pp.out")" "answer to the client sending PROXY v1 and its ClientHello at once"
log_line_matching " 203\.0\.113\.9 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
pinhole_stop
