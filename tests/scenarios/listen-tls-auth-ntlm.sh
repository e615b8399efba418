#!/bin/sh
# NTLM on an HTTPS proxy listener: NTLM authenticates the connection, here
# the proxy's TLS session; curl --proxy-ntlm gets an http:// page and an
# https:// page (CONNECT) with one connection to the proxy each (407 with a
# challenge, then 200 on the same session), and the log names CORP\alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
make_proxy_cert
start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: NTLM$' "$HEADERS" "407 without credentials"

out=$(pcurl --proxy-ntlm -U 'CORP\alice:secret' -o "$T/http.body" -w '%{http_code} %{num_connects}' \
	"http://www.origin.test:$WEB/hello" 2>&1)
expect_eq "200 1" "$out" "status and connections to the proxy for the http:// page"
expect_eq "hello from the origin" "$(cat "$T/http.body")" "http:// body after the NTLM handshake"

expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' --cacert "$T/ca.pem" "https://www.secure.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "https:// body after the NTLM handshake"
expect_eq "407 200 200" "$(grep -E '^HTTP/1\.1 ' <<<"$HEADERS" | cut -d' ' -f2 | xargs)" \
	"answers curl saw (CONNECT, CONNECT, GET through the tunnel)"
out=$(pcurl --proxy-ntlm -U 'CORP\alice:secret' --cacert "$T/ca.pem" -o /dev/null \
	-w '%{http_code} %{num_connects}' "https://www.secure.test:$TLS/hello" 2>&1)
expect_eq "200 1" "$out" "status and connections to the proxy for the https:// page"

log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello CORP\\\\alice HIER_DIRECT/127\.0\.0\.1 "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS CORP\\\\alice HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
