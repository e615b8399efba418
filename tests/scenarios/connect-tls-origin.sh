#!/bin/sh
# An https:// request through pinhole is a CONNECT tunnel: curl reaches the
# TLS origin and verifies the origin's own certificate end to end, and the
# access log records TCP_TUNNEL/200 with host:port.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body fetched through the tunnel"
expect_match '^HTTP/1\.1 200 Connection established$' "$HEADERS" "CONNECT answer"
log_line_matching " 127\.0\.0\.1 TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS - HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
