#!/bin/sh
# Squid as the parent with Negotiate (negotiate_kerberos_auth) against the
# test KDC: pinhole gets its own ticket for HTTP/<parent name> from a client
# keytab (KRB5_CLIENT_KTNAME, no kinit, no password in its configuration),
# and plain HTTP and CONNECT reach the origin, logged by Squid as pinhole's
# principal.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"
. "$PH_LIB/upstream.sh"

helper=/usr/lib/squid/negotiate_kerberos_auth
[ -x "$helper" ] || skip "Squid's negotiate_kerberos_auth is not installed (Debian package squid)"
kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
chmod 755 "$T/kdc" # krb5.conf, for Squid's helper (its own user)
kdc_add_service HTTP/parent.pinhole.test "$T/parent.keytab" || fail "cannot export the parent's keytab"
kdc_add_service pinhole-child "$T/child.keytab" || fail "cannot export pinhole's client keytab"
chmod 644 "$T/parent.keytab" # a throwaway key: Squid's helper reads it as its own user
# No replay cache for the acceptor: the helper's user cannot write one here.
KRB5RCACHETYPE=none
export KRB5RCACHETYPE

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test parent.pinhole.test
squid_start PARENT <<EOF
auth_param negotiate program $helper -k $T/parent.keytab -s HTTP/parent.pinhole.test@TEST.PINHOLE -t none
auth_param negotiate children 2
auth_param negotiate keep_alive on
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
EOF

# pinhole's credentials: only the client keytab (its ccache starts empty).
KRB5_CLIENT_KTNAME=$T/child.keytab KRB5CCNAME=FILE:$T/child.ccache pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
upstream-proxy http://parent.pinhole.test:$PARENT
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through Squid"
squid_log_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello pinhole-child@TEST\.PINHOLE "
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - FIRSTUP_PARENT/parent\.pinhole\.test "

expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the tunnel through Squid"
squid_log_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS pinhole-child@TEST\.PINHOLE "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS - FIRSTUP_PARENT/parent\.pinhole\.test "
pinhole_stop
