#!/bin/sh
# `auth negotiate helper` with Squid's negotiate_kerberos_auth against the
# test KDC's keytab: alice, with a ticket, reaches the origin through plain
# HTTP and CONNECT, logged as alice@TEST.PINHOLE (or alice with
# strip-realm); the helper's mutual-authentication token comes back in the
# 200; without a ticket the answer is 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"

helper=/usr/lib/squid/negotiate_kerberos_auth
[ -x "$helper" ] || skip "Squid's negotiate_kerberos_auth is not installed (Debian package squid)"
kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
kdc_add_user alice alice-secret || fail "cannot add alice to the test KDC"
kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab" || fail "cannot export the proxy's keytab"
kdc_kinit alice alice-secret || fail "kinit alice failed"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth negotiate helper "$helper -k $T/proxy.keytab -s HTTP/proxy.pinhole.test@TEST.PINHOLE" children 2
allow all
EOF

by_name=(--proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT"
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1")
expect_status 200 "${by_name[@]}" -v "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice@TEST\.PINHOLE "
expect_match '< Proxy-Authenticate: Negotiate [A-Za-z0-9+/=]{20,}' "$(tr -d '\r' <"$T/last.curlerr")" \
	"mutual-authentication token in the 200"
expect_status 200 "${by_name[@]}" --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice@TEST\.PINHOLE "

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: Negotiate$' "$HEADERS" "407 headers"

kdestroy >/dev/null 2>&1
expect_status 407 "${by_name[@]}" "http://www.origin.test:$WEB/hello"
pinhole_stop

# strip-realm applies to what the helper names.
kdc_kinit alice alice-secret || fail "kinit alice failed"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth negotiate helper "$helper -k $T/proxy.keytab -s GSS_C_NO_NAME" strip-realm
allow all
EOF
expect_status 200 "${by_name[@]}" "http://www.origin.test:$WEB/conn"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/conn alice "
pinhole_stop
