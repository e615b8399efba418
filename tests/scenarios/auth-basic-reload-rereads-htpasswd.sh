#!/bin/sh
# SIGHUP re-reads the htpasswd file: a user added since gets in, and a
# changed password takes effect at once (the old one, though remembered by
# the credential cache, is refused).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'old-pw\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd cache 10m
allow all
EOF

expect_status 200 --proxy-basic -U alice:old-pw "http://www.origin.test:$WEB/hello"
expect_status 407 --proxy-basic -U bob:bob-pw "http://www.origin.test:$WEB/hello"

{
	printf 'new-pw\n' | "$PINHOLE" passwd --basic alice
	printf 'bob-pw\n' | "$PINHOLE" passwd --basic bob
} >"$T/users.htpasswd.new" || fail "pinhole passwd --basic failed"
mv "$T/users.htpasswd.new" "$T/users.htpasswd"
pinhole_reload

expect_status 200 --proxy-basic -U bob:bob-pw "http://www.origin.test:$WEB/hello"
expect_status 200 --proxy-basic -U alice:new-pw "http://www.origin.test:$WEB/hello"
expect_status 407 --proxy-basic -U alice:old-pw "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello bob "
pinhole_stop
