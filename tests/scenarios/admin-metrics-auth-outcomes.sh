#!/bin/sh
# /metrics counts authentication outcomes per scheme: a 407 to a request
# without credentials challenges with every configured scheme (it used to
# count for none, so challenge stayed 0 while 407s were sent), a wrong
# password is denied for its scheme, a right one ok.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
auth digest file $T/users.digest
allow all
EOF
wait_admin
url="http://www.origin.test:$WEB/hello"
for i in 1 2 3; do
	expect_status 407 "$url"
done
expect_status 407 -p "http://www.origin.test:$WEB/tunnel"
expect_status 407 -U alice:wrong "$url"
expect_status 200 -U alice:secret "$url"
expect_admin 200 /metrics
m() {
	expect_match "^pinhole_auth_total\{scheme=\"$1\",result=\"$2\"\} $3\$" "$BODY" "/metrics, $1 $2"
}
m Basic challenge 4
m Digest challenge 4
m Basic denied 1
m Basic ok 1
m Digest ok 0
m NTLM challenge 0
pinhole_stop
