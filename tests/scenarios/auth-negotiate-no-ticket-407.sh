#!/bin/sh
# A Negotiate client without a Kerberos ticket (after kdestroy, or with an
# empty credential cache) has nothing to send: curl --proxy-negotiate ends
# with 407 `Proxy-Authenticate: Negotiate` and nothing reaches the origin.
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
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab
allow all
EOF

by_name=(--proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT"
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1")
expect_status 200 "${by_name[@]}" "http://www.origin.test:$WEB/hello"

kdestroy >/dev/null 2>&1 || fail "kdestroy failed"
expect_status 407 "${by_name[@]}" "http://www.origin.test:$WEB/hello"
expect_eq "Proxy authentication required." "$BODY" "407 body after kdestroy"
expect_match '^Proxy-Authenticate: Negotiate$' "$HEADERS" "407 headers after kdestroy"

: >"$T/empty.ccache"
KRB5CCNAME=FILE:$T/empty.ccache expect_status 407 "${by_name[@]}" "http://www.origin.test:$WEB/hello"
expect_eq "Proxy authentication required." "$BODY" "407 body with an empty credential cache"

expect_eq 1 "$(origin_count WEB)" "requests the origin saw (the one with a ticket)"
expect_eq 2 "$(grep -c " TCP_DENIED/407 [0-9]* GET http://www\.origin\.test:$WEB/hello - " "$T/access.log")" \
	"407s in the access log"
pinhole_stop
