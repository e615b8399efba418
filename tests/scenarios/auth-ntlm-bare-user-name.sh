#!/bin/sh
# A user who types only "alice" (no domain) in a proxy prompt sends an NTLM
# Type 3 with an empty domain; pinhole reads it as the domain its challenge
# announced, the users file's own (EXAMPLE\alice): curl --proxy-ntlm -U
# alice:secret gets the page, logged as EXAMPLE\alice.  A domain in another
# case still works; another domain, or a wrong password, gets 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain EXAMPLE >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

expect_status 200 --proxy-ntlm -U 'alice:secret' "http://www.origin.test:$WEB/hello?bare"
expect_eq "hello from the origin" "$BODY" "the page for a bare user name"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?bare EXAMPLE\\\\alice "
expect_status 200 --proxy-ntlm -U 'example\alice:secret' "http://www.origin.test:$WEB/hello?lower"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?lower example\\\\alice "
expect_status 407 --proxy-ntlm -U 'alice:wrong' "http://www.origin.test:$WEB/hello?wrong"
expect_status 407 --proxy-ntlm -U 'OTHER\alice:secret' "http://www.origin.test:$WEB/hello?other"
expect_eq 2 "$(origin_count WEB)" "requests the origin saw"
pinhole_stop
