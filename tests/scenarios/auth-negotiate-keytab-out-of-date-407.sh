#!/bin/sh
# After the proxy's key is changed in the KDC, a keytab exported before holds
# a stale key version: clients with fresh tickets get 407 and the error log
# says the keytab is out of date.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"

kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
kdc_add_user alice alice-secret || fail "cannot add alice to the test KDC"
kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab" || fail "cannot export the proxy's keytab"
kdc_rekey HTTP/proxy.pinhole.test || fail "cannot change the proxy's key"
kdc_kinit alice alice-secret || fail "kinit alice failed"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab
allow all
EOF

expect_status 407 --proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT" \
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1" "http://www.origin.test:$WEB/hello"
expect_eq "Proxy authentication required: the credentials were refused." "$BODY" "407 body"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
eventually 5 grep -q 'Negotiate .*out of date' "$T/error.log" ||
	fail "the error log does not say the keytab is out of date: $(cat "$T/error.log")"
pinhole_stop
