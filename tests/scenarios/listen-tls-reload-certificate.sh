#!/bin/sh
# An HTTPS proxy listener's certificate is read again on reload (SIGHUP):
# a broken certificate file makes the reload fail (the error names
# FILE:LINE) and the listener keeps presenting the old certificate and
# serving; a renewed certificate is presented by the next handshake, while
# a connection opened before the reload goes on.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"

# presented: the SHA-256 fingerprint of the certificate the listener sends.
presented() {
	proxy_handshake
	[ "$HS_RC" = 0 ] || fail "handshake with the listener failed: $HS_OUT"
	sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' <<<"$HS_OUT" |
		openssl x509 -noout -fingerprint -sha256
}

fingerprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha256
}

make_proxy_cert
cp "$PXY_CRT" "$T/old.pem"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
expect_eq "$(fingerprint "$T/old.pem")" "$(presented)" "the certificate presented at start"
expect_status 200 "http://www.origin.test:$WEB/hello"

# A client that stays connected across both reloads (keep-alive).
spawn keeper "$PY" -c '
import os, socket, ssl, sys, time
port, ca, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
socket.setdefaulttimeout(15)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="proxy.test")
req = ("GET http://www.origin.test:%s/hello HTTP/1.1\r\nHost: www.origin.test:%s\r\n\r\n" % (sys.argv[4], sys.argv[4])).encode()
answers = []
for i in range(2):
    s.sendall(req)
    got = b""
    while b"hello from the origin\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    answers.append(got.split(b"\r\n", 1)[0].decode())
    if i == 0:
        open(out + ".first", "w").close()
        deadline = time.monotonic() + 30
        while not os.path.exists(out + ".go") and time.monotonic() < deadline:
            time.sleep(0.1)
open(out, "w").write(" ".join(answers) + "\n")
' "$PH_PORT" "$T/ca.pem" "$T/keeper.result" "$WEB"
keeper=$SPAWNED_PID
wait_file "$T/keeper.result.first"

# Broken: the reload is refused, the old certificate stays.
echo "not a certificate" >"$PXY_CRT"
pinhole_reload
eventually 3 grep -qs "pinhole\.conf:1: listen 127\.0\.0\.1:$PH_PORT tls: certificate $PXY_CRT holds no PEM certificate" \
	"$T/pinhole.err" || fail "no 'pinhole.conf:1:' error naming the certificate after the bad reload:
$(cat "$T/pinhole.err")"
expect_eq "$(fingerprint "$T/old.pem")" "$(presented)" "the certificate presented after the refused reload"
expect_status 200 "http://www.origin.test:$WEB/hello"

# Renewed: the next handshake presents the new one.
make_proxy_cert proxy.test www.proxy.test
[ "$(fingerprint "$PXY_CRT")" != "$(fingerprint "$T/old.pem")" ] || fail "the renewed certificate is the old one"
pinhole_reload
eventually 3 test "$(presented)" = "$(fingerprint "$PXY_CRT")" ||
	fail "the listener presents $(presented) after the reload, not the renewed $(fingerprint "$PXY_CRT")"
expect_status 200 "http://www.origin.test:$WEB/hello"

touch "$T/keeper.result.go"
wait_pid "$keeper"
expect_eq "HTTP/1.1 200 OK HTTP/1.1 200 OK" "$(cat "$T/keeper.result")" \
	"answers on the connection opened before the reloads"
pinhole_stop
