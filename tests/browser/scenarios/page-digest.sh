#!/bin/sh
# Digest proxy authentication (RFC 7616, MD5 and SHA-256 offered) in real
# browsers: the right password loads the http:// and https:// pages, logged
# as alice; a wrong one loads neither.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --digest alice --realm pinhole >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
for B in $(browsers); do
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $ACCESS_LOG squid
hosts-file $T/hosts
auth digest file $T/users.digest algorithm SHA-256 MD5
allow user alice
EOF
	auth_pages "$B" digest alice secret alice
	auth_pages_wrong "$B" digest alice wrong
	pinhole_stop
done
