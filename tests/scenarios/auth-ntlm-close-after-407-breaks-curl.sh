#!/bin/sh
# `quirk close-after-407` reproduces the proxies that break NTLM: the 407 that
# carries the NTLM challenge also says `Connection: close` and the connection
# ends, so curl --proxy-ntlm cannot finish the handshake and stops at 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
quirk close-after-407
allow all
EOF

expect_status 407 --proxy-ntlm -U 'CORP\alice:secret' "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: NTLM [A-Za-z0-9+/]+=*$' "$HEADERS" "407 headers"
expect_match '^Connection: close$' "$HEADERS" "407 headers"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
no_log_line_matching 'CORP'

# The same by hand: a type 1 message gets the challenge, then the end.
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nProxy-Authorization: NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n" \
	expect '^HTTP/1\.1 407 [^\r]*\r\n' expect 'Proxy-Authenticate: NTLM [A-Za-z0-9+/]+' \
	expect '\r\n\r\nProxy authentication required\.\n' eof
pinhole_stop
