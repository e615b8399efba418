#!/bin/sh
# An https:// request with curl --proxy-ntlm: the NTLM handshake runs on the
# CONNECT (407 with a challenge, then 200 Connection established on the same
# connection), curl reaches the TLS origin and the log names CORP\alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body fetched through the tunnel"
expect_eq "407 200 200" "$(grep -E '^HTTP/1\.1 ' <<<"$HEADERS" | cut -d' ' -f2 | xargs)" \
	"answers curl saw (CONNECT, CONNECT, GET through the tunnel)"
out=$(pcurl --proxy-ntlm -U 'CORP\alice:secret' --cacert "$T/ca.pem" -o /dev/null \
	-w '%{http_code} %{num_connects}' "https://www.origin.test:$TLS/hello" 2>&1)
expect_eq "200 1" "$out" "status and connections to the proxy for the whole handshake"
log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT www\.origin\.test:$TLS - "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS CORP\\\\alice HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
