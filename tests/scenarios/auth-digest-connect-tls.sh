#!/bin/sh
# An https:// request with curl --proxy-digest: the CONNECT gets 407 with a
# Digest challenge, curl answers it on the same connection, the tunnel opens
# to the TLS origin and the access log names alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
allow all
EOF

expect_status 200 --proxy-digest -U alice:secret --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body fetched through the tunnel"
expect_eq "407 200 200" "$(grep -E '^HTTP/1\.1 ' <<<"$HEADERS" | cut -d' ' -f2 | xargs)" \
	"answers curl saw (CONNECT, CONNECT, GET through the tunnel)"
expect_match '^HTTP/1\.1 200 Connection established$' "$HEADERS" "second CONNECT answer"
out=$(pcurl --proxy-digest -U alice:secret --cacert "$T/ca.pem" -o /dev/null \
	-w '%{http_code} %{num_connects}' "https://www.origin.test:$TLS/hello" 2>&1)
expect_eq "200 1" "$out" "status and connections to the proxy, 407 then 200"
log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT www\.origin\.test:$TLS - "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
