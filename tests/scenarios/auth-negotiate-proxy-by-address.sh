#!/bin/sh
# A client pointed at the proxy by its address (as Chromium does) brings a
# ticket for HTTP/127.0.0.1, which the keytab lacks: 407, and the error log
# names that service and says to configure browsers with the host name.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"

kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
kdc_add_user alice alice-secret || fail "cannot add alice to the test KDC"
kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab" || fail "cannot export the proxy's keytab"
# In the KDC but not in the keytab: without it the client would get no
# ticket at all and send nothing pinhole could explain.
kdc_add_service HTTP/127.0.0.1 || fail "cannot add HTTP/127.0.0.1 to the test KDC"
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

expect_status 407 --proxy-negotiate -U : "http://www.origin.test:$WEB/hello"
expect_eq "Proxy authentication required: the credentials were refused." "$BODY" "407 body"
expect_match '^Proxy-Authenticate: Negotiate$' "$HEADERS" "407 headers"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
eventually 5 grep -q 'HTTP/127\.0\.0\.1@TEST\.PINHOLE' "$T/error.log" ||
	fail "the error log does not name HTTP/127.0.0.1@TEST.PINHOLE: $(cat "$T/error.log")"
expect_match "configure browsers with the proxy's host name" "$(cat "$T/error.log")" "error log"
pinhole_stop
