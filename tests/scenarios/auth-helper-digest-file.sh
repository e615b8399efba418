#!/bin/sh
# `auth digest helper` with Squid's digest_file_auth over an htdigest file:
# pinhole asks it for alice's HA1 ("alice":"pinhole") and checks the Digest
# response itself, so the right password passes, a wrong one gets 407, and
# only MD5 is offered (the helper protocol carries one HA1).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

helper=/usr/lib/squid/digest_file_auth
[ -x "$helper" ] || skip "Squid's digest_file_auth is not installed (Debian package squid)"
command -v htdigest >/dev/null || skip "needs htdigest (apt-get install apache2-utils)"
printf 'secret\nsecret\n' | timeout 10 setsid -w htdigest -c "$T/users.digest" pinhole alice \
	>"$T/htdigest.out" 2>&1 || fail "htdigest failed: $(cat "$T/htdigest.out")"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth digest helper "$helper -c $T/users.digest" children 2
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: Digest realm="pinhole", .*algorithm=MD5' "$HEADERS" "407 headers"
expect_no_match 'SHA-256' "$HEADERS" "407 headers"

expect_status 200 --proxy-digest -U alice:secret "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
expect_status 200 --proxy-digest -U alice:secret --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice "

expect_status 407 --proxy-digest -U alice:wrong "http://www.origin.test:$WEB/hello"
expect_status 407 --proxy-digest -U mallory:secret "http://www.origin.test:$WEB/hello"
pinhole_stop
