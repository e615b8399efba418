#!/bin/sh
# Handshakes an HTTPS proxy listener refuses or gives up on, each logged
# once (warn, with the client's address and the reason) and counted in
# pinhole_listener_tls_handshake_failures_total: a client offering only h2
# in ALPN (it gets the alert no_application_protocol), one offering only
# TLS 1.1, one that does not trust the listener's certificate, one that
# sends part of a ClientHello and stalls (closed after timeout header, not
# later), one whose first bytes are neither TLS nor HTTP.  A connection
# closed without a byte is no failure.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"
. "$PH_LIB/admin.sh"

make_proxy_cert
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
timeout header 2s
allow all
EOF
wait_admin
PFX="warn: 127\.0\.0\.1: TLS handshake with the HTTPS proxy listener 127\.0\.0\.1:$PH_PORT failed: "

proxy_handshake -alpn h2
[ "$HS_RC" != 0 ] || fail "a handshake offering only h2 succeeded: $HS_OUT"
expect_match 'alert no application protocol' "$HS_OUT" "what openssl s_client offering only h2 got"
error_log_line() {
	eventually 5 grep -Eq -- "$1" "$T/pinhole.err" || fail "no error-log line matching /$1/:
$(cat "$T/pinhole.err")"
}
error_log_line "${PFX}the client offers only h2 in ALPN and this listener speaks HTTP/1\.1 \(http/1\.1\); it was sent the alert no_application_protocol\$"

proxy_handshake -tls1_1 -cipher DEFAULT@SECLEVEL=0
[ "$HS_RC" != 0 ] || fail "a TLS 1.1 handshake succeeded: $HS_OUT"
error_log_line "${PFX}the client offers only TLS versions older than 1\.2\$"

curl -q -sS --max-time 10 -x "$PROXY" --resolve "$PXY_NAME:$PH_PORT:127.0.0.1" -o /dev/null \
	"http://www.origin.test:$WEB/hello" 2>"$T/untrusted.err"
expect_eq 60 "$?" "curl's exit status not trusting the proxy's certificate ($(cat "$T/untrusted.err"))"
error_log_line "${PFX}the client refused the listener's certificate \(alert \"unknown CA\"\)"

# Part of a ClientHello, then nothing: closed when timeout header (2 s)
# runs out.
start=$(date +%s%N)
raw send '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' eof
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -ge 1500 ] && [ "$ms" -lt 4000 ] || fail "the stalled handshake was closed after $ms ms (timeout header 2s)"
error_log_line "${PFX}no complete handshake within timeout header \(2000 ms\)\$"

raw send '\x00\x01\x02\x03' eof
error_log_line "${PFX}the client's first byte is 0x00, not a TLS handshake record\$"

# Connected and gone without a byte (a port check): nothing to say.
"$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$PH_PORT"
sleep 0.5
expect_eq 5 "$(grep -c 'TLS handshake with the HTTPS proxy listener' "$T/pinhole.err")" \
	"handshake failures in the error log"
expect_eq 5 "$(admin_metric pinhole_listener_tls_handshake_failures_total)" \
	"pinhole_listener_tls_handshake_failures_total"
no_log_line_matching '.'

# A good client is served.
expect_status 200 "http://www.origin.test:$WEB/hello"
pinhole_stop
