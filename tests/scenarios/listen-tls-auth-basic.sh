#!/bin/sh
# Basic proxy authentication on an HTTPS proxy listener: the credentials
# travel inside the proxy's TLS.  Without them curl gets 407; with
# --proxy-user it gets an http:// page and an https:// page (CONNECT), and
# the access log names alice; the password appears in no log.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
make_proxy_cert
start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: Basic realm="pinhole"' "$HEADERS" "407 through the HTTPS proxy"
expect_status 200 --proxy-user alice:secret "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "http:// body with Basic credentials"
expect_status 407 --cacert "$T/ca.pem" "https://www.secure.test:$TLS/hello"
expect_eq 0 "$(origin_count TLS)" "connections the TLS origin saw after the 407"
expect_status 200 --proxy-user alice:secret --cacert "$T/ca.pem" "https://www.secure.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "https:// body with Basic credentials"

log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice HIER_DIRECT/127\.0\.0\.1 "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS alice HIER_DIRECT/127\.0\.0\.1 "
! grep -qs 'secret\|YWxpY2U6c2VjcmV0' "$T/access.log" "$T/pinhole.err" ||
	fail "the password appears in a log"
pinhole_stop
