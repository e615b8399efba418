#!/bin/sh
# `noauth domain .tokbox.test` lets requests to www.tokbox.test (plain HTTP
# and CONNECT) through without credentials, while other hosts still get 407;
# the exempt requests are logged without a user.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_tls_origin TLS www.tokbox.test
hosts_entry 127.0.0.1 www.tokbox.test www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
noauth domain .tokbox.test
allow all
EOF

expect_status 200 "http://www.tokbox.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.tokbox\.test:$WEB/hello - HIER_DIRECT/"
expect_status 200 --cacert "$T/ca.pem" "https://www.tokbox.test:$TLS/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.tokbox\.test:$TLS - HIER_DIRECT/"

expect_status 407 "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
expect_status 200 --proxy-basic -U alice:secret "http://www.origin.test:$WEB/hello"
pinhole_stop
