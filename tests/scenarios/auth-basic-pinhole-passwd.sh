#!/bin/sh
# `pinhole passwd --basic USER` (password on stdin) prints an htpasswd line
# (bcrypt, never the password); a file of such lines works with `auth basic
# htpasswd`: each user gets in with their own password only.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

for u in alice:alice-pw bob:bob-pw; do
	printf '%s\n' "${u#*:}" | "$PINHOLE" passwd --basic "${u%%:*}" >>"$T/users.htpasswd" ||
		fail "pinhole passwd --basic ${u%%:*} failed"
done
expect_match '^alice:\$2[aby]\$' "$(cat "$T/users.htpasswd")" "pinhole passwd output"
expect_no_match 'alice-pw|bob-pw' "$(cat "$T/users.htpasswd")" "pinhole passwd output"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

expect_status 200 --proxy-basic -U alice:alice-pw "http://www.origin.test:$WEB/hello"
expect_status 200 --proxy-basic -U bob:bob-pw "http://www.origin.test:$WEB/hello"
expect_status 407 --proxy-basic -U bob:alice-pw "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello bob "
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
pinhole_stop
