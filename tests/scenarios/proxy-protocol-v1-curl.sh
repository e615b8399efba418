#!/bin/sh
# On a `listen ... proxy-protocol` listener, clients that send a PROXY v1
# header first (curl --haproxy-protocol) are served, for GET and CONNECT.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 --haproxy-protocol "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
expect_status 200 --haproxy-protocol --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
log_line_matching " 127\.0\.0\.1 TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS "
pinhole_stop
