#!/bin/sh
# `noauth src CIDR` exempts a trusted subnet: a client from 127.0.0.2 (in
# 127.0.0.2/32) gets through without credentials, while a client from
# 127.0.0.1 gets 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
noauth src 127.0.0.2/32
allow all
EOF

expect_status 200 --interface 127.0.0.2 "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.2 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
expect_status 407 --interface 127.0.0.1 "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.1 TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
pinhole_stop
