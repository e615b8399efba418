#!/bin/sh
# `quirk auth-everything` reproduces proxies that ignore exemptions: with
# `noauth domain .tokbox.test` still in the config, a request to
# www.tokbox.test without credentials gets 407 (with them, 200).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_tls_origin TLS www.tokbox.test
hosts_entry 127.0.0.1 www.tokbox.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
noauth domain .tokbox.test
quirk auth-everything
allow all
EOF

expect_status 407 "http://www.tokbox.test:$WEB/hello"
expect_match '^Proxy-Authenticate: Basic ' "$HEADERS" "407 headers"
expect_status 407 --cacert "$T/ca.pem" "https://www.tokbox.test:$TLS/hello"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT www\.tokbox\.test:$TLS - "

expect_status 200 --proxy-basic -U alice:secret "http://www.tokbox.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.tokbox\.test:$WEB/hello alice "
pinhole_stop
