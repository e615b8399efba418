#!/bin/sh
# Malformed Proxy-Authorization values (bad base64, no colon, empty, a
# truncated NTLM message, a Digest header without its fields) get 407 with
# fresh challenges, never a crash; the next client is served as usual.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
auth digest file $T/users.digest
auth ntlm users $T/users.ntlm
allow all
EOF

# (YWxpY2U is "alice" without a colon; TlRMTVNTUAAD is a cut-off type 3.)
for value in 'Basic !!!not*base64???' 'Basic YWxpY2U' 'Basic' \
	'Basic ' 'NTLM %%%' 'NTLM TlRMTVNTUAAD' 'NTLM' 'Digest garbage' 'Digest username="alice"' \
	'Digest username="alice", realm="pinhole", nonce="x", uri="/", response="00"'; do
	expect_status 407 -H "Proxy-Authorization: $value" "http://www.origin.test:$WEB/hello"
	expect_match '^Proxy-Authenticate: Basic ' "$HEADERS" "407 headers for '$value'"
	alive "$PH_PID" || fail "pinhole died after Proxy-Authorization: $value"
done
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"

expect_status 200 --proxy-basic -U alice:secret "http://www.origin.test:$WEB/hello"
expect_status 200 --proxy-ntlm -U alice:secret "http://www.origin.test:$WEB/hello"
pinhole_stop
