#!/bin/sh
# `auth negotiate keytab FILE principal NAME` with a NAME the keytab has no key
# for is a broken proxy: a client with a good ticket gets 502 saying the keytab
# has no key for NAME (and the error log says so); nothing is forwarded.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"

kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
kdc_add_user alice alice-secret || fail "cannot add alice to the test KDC"
kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab" || fail "cannot export the proxy's keytab"
kdc_kinit alice alice-secret || fail "kinit alice failed"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab principal HTTP/other.pinhole.test
allow all
EOF

expect_status 502 --proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT" \
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1" "http://www.origin.test:$WEB/hello"
expect_match "broken on the proxy's side" "$BODY" "502 body"
eventually 5 grep -q 'no key for HTTP/other\.pinhole\.test' "$T/error.log" ||
	fail "the error log does not name the principal: $(cat "$T/error.log")"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/502 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
eventually 5 grep -q 'no key for HTTP/other\.pinhole\.test' "$T/error.log" ||
	fail "the error log does not say which key is missing: $(cat "$T/error.log")"
pinhole_stop
