#!/bin/sh
# An https:// request with Basic credentials: the CONNECT carries them, curl
# reaches the TLS origin through the tunnel and the access log names alice;
# the same CONNECT without credentials gets 407 and opens no tunnel.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

expect_status 407 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_match '^Proxy-Authenticate: Basic realm="pinhole"' "$HEADERS" "407 to the CONNECT"
expect_eq 0 "$(origin_count TLS)" "connections the origin saw after the 407"
log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT www\.origin\.test:$TLS - "

expect_status 200 --proxy-basic -U alice:secret --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body fetched through the tunnel"
expect_match '^HTTP/1\.1 200 Connection established$' "$HEADERS" "CONNECT answer"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
