#!/bin/sh
# Framing headers are never hop-by-hop: a request whose Connection header
# names Content-Length (its body is itself a request) gets 400 and nothing
# reaches the origin, neither the POST nor the request hidden in its body;
# the same inside an inspected TLS session; Connection naming
# Transfer-Encoding, Host, or Upgrade without an Upgrade header, is refused
# too; an origin answering with Connection: Content-Length gives a 502.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_origin WEB http
start_tls_origin_own TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
allow method GET POST CONNECT
deny all
EOF

smug="DELETE /SMUG HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n"
len=$(printf "$smug" | wc -c)
raw send "POST http://www.origin.test:$WEB/echo HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nConnection: Content-Length\r\nContent-Length: $len\r\n\r\n$smug" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n(.*\r\n)*\r\n.*framing header' eof
raw send "POST http://www.origin.test:$WEB/echo HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nConnection: keep-alive, transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" \
	expect '^HTTP/1\.1 400 ' eof
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nConnection: Host\r\n\r\n" \
	expect '^HTTP/1\.1 400 ' eof
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nConnection: Upgrade\r\n\r\n" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n(.*\r\n)*\r\n.*no Upgrade header' eof

# Inside an inspected session the same request meets the same check.
tls_raw "www.secure.test:$TLS" \
	send "POST /echo HTTP/1.1\r\nHost: www.secure.test:$TLS\r\nConnection: Content-Length\r\nContent-Length: $len\r\n\r\n$smug" \
	expect '^HTTP/1\.1 400 ' eof

# The origin's answer with Connection: Content-Length.
expect_status 502 "http://www.origin.test:$WEB/hdr?Connection=Content-Length"
expect_match 'framing header' "$BODY" "502 body"

# Ordinary requests still pass, and nothing smuggled ever arrived.
expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 200 --cacert "$PCA_CRT" "https://www.secure.test:$TLS/hello"
expect_no_match 'SMUG|POST|DELETE' "$(cat "$T/WEB.requests" "$T/TLS.requests")" "requests the origins received"
log_line_matching " NONE_NONE/400 [0-9]+ POST http://www\.origin\.test:$WEB/echo "
log_line_matching " NONE_NONE/400 [0-9]+ POST https://www\.secure\.test:$TLS/echo "
pinhole_stop
