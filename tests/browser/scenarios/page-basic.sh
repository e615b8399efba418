#!/bin/sh
# Basic proxy authentication in real browsers: with the right user and
# password (given to the browser's prompt) the http:// and https:// pages
# load and the access log names alice; with a wrong password neither page
# loads (the browser ends on the 407) and the origins see nothing.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
for B in $(browsers); do
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $ACCESS_LOG squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow user alice
EOF
	auth_pages "$B" basic alice secret alice
	auth_pages_wrong "$B" basic alice wrong
	pinhole_stop
done
