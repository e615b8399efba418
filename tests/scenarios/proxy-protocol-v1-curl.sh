#!/bin/sh
# On a `listen ... proxy-protocol` listener, clients that send a PROXY v1
# header first (curl --haproxy-protocol) are served.  (curl sends no PROXY
# header ahead of a CONNECT, so tunnels are covered by the raw-client
# scenarios proxy-protocol-v1-client-address and -v2-client-address.)
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 --haproxy-protocol "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
expect_status 200 --haproxy-protocol "http://www.origin.test:$WEB/conn"
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn "
pinhole_stop
