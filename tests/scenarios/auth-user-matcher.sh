#!/bin/sh
# `allow user alice` then `deny all`: alice gets the page; bob, whose
# credentials are good, gets 403 naming the deny rule's file:line; a client
# without credentials is asked for them first (407).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

for u in alice bob; do
	printf '%s-pw\n' "$u" | "$PINHOLE" passwd --basic "$u" >>"$T/users.htpasswd" ||
		fail "pinhole passwd --basic $u failed"
done
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow user alice
deny all
EOF

expect_status 200 --proxy-basic -U alice:alice-pw "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "

expect_status 403 --proxy-basic -U bob:bob-pw "http://www.origin.test:$WEB/hello"
expect_match 'pinhole\.conf:6' "$BODY" "403 body naming the deny rule"
log_line_matching " TCP_DENIED/403 [0-9]+ GET http://www\.origin\.test:$WEB/hello bob "
expect_status 403 --proxy-basic -U bob:bob-pw --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT www\.origin\.test:$TLS bob "

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_eq 1 "$(origin_count WEB)" "requests the origin saw (alice's)"
expect_eq 0 "$(origin_count TLS)" "connections the TLS origin saw"
pinhole_stop
