#!/bin/sh
# An HTTPS proxy listener (listen ... tls CERT KEY): curl --proxy
# https://proxy.test:PORT, trusting the listener's CA, fetches an http://
# page (forwarded) and an https:// page (a CONNECT tunnel inside the
# proxy's TLS).  The JSON access log says the client spoke TLS, /config
# shows the listener with its files, /metrics counts no failed handshake.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"
. "$PH_LIB/admin.sh"

make_proxy_cert
start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
admin 127.0.0.1:$ADMIN
access-log $T/access.log json
hosts-file $T/hosts
allow all
EOF
wait_admin

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "http:// body through the HTTPS proxy"
expect_status 200 --cacert "$T/ca.pem" "https://www.secure.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "https:// body through a tunnel inside the HTTPS proxy"
expect_match '^HTTP/1\.1 200 Connection established$' "$HEADERS" "CONNECT answer"

# What curl saw of the proxy: TLS, pinhole's certificate for proxy.test.
out=$(pcurl -v -o /dev/null "http://www.origin.test:$WEB/hello" 2>&1)
expect_match 'Proxy certificate:' "$out" "curl -v through the HTTPS proxy"
expect_match 'subject: CN=proxy\.test' "$out" "the proxy certificate's subject"
# A client offering h2 and http/1.1 gets http/1.1.
proxy_handshake -alpn h2,http/1.1
expect_eq 0 "$HS_RC" "openssl s_client's status (handshake offering h2,http/1.1: $HS_OUT)"
expect_match '^ALPN protocol: http/1\.1$' "$HS_OUT" "ALPN the proxy chose"

# Keep-alive inside the proxy's TLS: two requests, one connection.
out=$(pcurl -o /dev/null -o /dev/null -w '%{num_connects} ' \
	"http://www.origin.test:$WEB/hello" "http://www.origin.test:$WEB/hello")
expect_eq "1 0 " "$out" "connections curl opened for two requests"

# A large download through a tunnel inside the proxy's TLS, intact.
expect_status 200 --cacert "$T/ca.pem" "https://www.secure.test:$TLS/bytes/3000000"
expect_eq 3000000 "$(stat -c %s "$T/last.body")" "bytes of the download through the tunnel"

log_line_matching '"result":"TCP_MISS","status":200,.*"method":"GET","url":"http://www\.origin\.test:'"$WEB"'/hello".*"client_tls":true\}$'
log_line_matching '"result":"TCP_TUNNEL","status":200,.*"method":"CONNECT","url":"www\.secure\.test:'"$TLS"'",.*"mime":"tls",.*"client_tls":true\}$'
no_log_line_matching '"client_tls":false'

expect_admin 200 /config
expect_match "^listen 127\.0\.0\.1:$PH_PORT tls $PXY_CRT $PXY_KEY\$" "$BODY" "/config's listen line"
expect_eq 0 "$(admin_metric pinhole_listener_tls_handshake_failures_total)" \
	"pinhole_listener_tls_handshake_failures_total"
expect_match "listening on 127\.0\.0\.1:$PH_PORT as an HTTPS proxy \(.*CN=proxy\.test" "$(cat "$T/pinhole.err")" \
	"start-up line of the HTTPS listener"
pinhole_stop
