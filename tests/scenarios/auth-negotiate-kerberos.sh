#!/bin/sh
# alice, with a Kerberos ticket, points curl --proxy-negotiate at the proxy by
# its host name (HTTP/proxy.pinhole.test is in the keytab): plain HTTP and
# CONNECT get through, logged as alice@TEST.PINHOLE; without credentials, 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"

kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
# Exports KRB5_CONFIG, KRB5CCNAME and KRB5RCACHEDIR for curl and pinhole.
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
auth negotiate keytab $T/proxy.keytab
allow all
EOF

# curl asks the KDC for HTTP/<the proxy's name as given>: the name must
# resolve for curl itself, hence --resolve (no DNS, no /etc/hosts).
by_name=(--proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT"
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1")
expect_status 200 "${by_name[@]}" "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice@TEST\.PINHOLE "
expect_status 200 "${by_name[@]}" --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body fetched through the tunnel"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice@TEST\.PINHOLE "

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: Negotiate$' "$HEADERS" "407 headers"
expect_eq "Proxy authentication required." "$BODY" "407 body"
pinhole_stop
