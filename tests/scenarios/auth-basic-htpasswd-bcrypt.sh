#!/bin/sh
# With `auth basic htpasswd FILE` and a file made by Apache's `htpasswd -B`,
# curl --proxy-basic with alice's password gets the page and the access log
# names alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

command -v htpasswd >/dev/null || skip "needs htpasswd (apt-get install apache2-utils)"
echo secret | htpasswd -i -B -c "$T/users.htpasswd" alice 2>/dev/null ||
	fail "htpasswd -B could not make $T/users.htpasswd"
expect_match '^alice:\$2y\$' "$(cat "$T/users.htpasswd")" "htpasswd -B output"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

expect_status 200 --proxy-basic -U alice:secret "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice HIER_DIRECT/127\.0\.0\.1 "
pinhole_stop
