#!/bin/sh
# With `auth ntlm users FILE` (lines made by `pinhole passwd --ntlm`), curl
# --proxy-ntlm -U 'CORP\alice:secret' gets the page after the NTLM handshake
# (407 with an NTLM challenge, then 200) and the access log names CORP\alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
expect_match '^CORP\\alice:[0-9a-f]{32}$' "$(cat "$T/users.ntlm")" "pinhole passwd --ntlm output"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: NTLM$' "$HEADERS" "407 headers without credentials"

expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
expect_match '^Proxy-Authenticate: NTLM [A-Za-z0-9+/]+=*$' "$HEADERS" "the challenge (type 2) curl received"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello CORP\\\\alice HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
