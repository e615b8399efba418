#!/bin/sh
# A wrong password, or a user not in the file, gets 407 again with a fresh
# Basic challenge and a body saying the credentials were refused; nothing
# reaches the origin and the access log records TCP_DENIED/407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

for who in alice:wrong mallory:secret alice:; do
	expect_status 407 --proxy-basic -U "$who" "http://www.origin.test:$WEB/hello"
	expect_eq "Proxy authentication required: the credentials were refused." "$BODY" "407 body for $who"
	expect_match '^Proxy-Authenticate: Basic realm="pinhole"' "$HEADERS" "407 headers for $who"
done
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
no_log_line_matching " (alice|mallory) "

expect_status 200 --proxy-basic -U alice:secret "http://www.origin.test:$WEB/hello"
pinhole_stop
