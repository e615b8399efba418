#!/bin/sh
# A keytab that goes away while pinhole runs is the proxy's fault, not the
# user's: a client with a good ticket gets 502 naming the keytab and why,
# and the error log says the same.
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
auth negotiate keytab $T/proxy.keytab
allow all
EOF

by_name=(--proxy-negotiate -U : -x "http://proxy.pinhole.test:$PH_PORT"
	--resolve "proxy.pinhole.test:$PH_PORT:127.0.0.1")
expect_status 200 "${by_name[@]}" "http://www.origin.test:$WEB/hello"

# (Removed rather than chmod 000: root reads any file.)
mv "$T/proxy.keytab" "$T/proxy.keytab.gone"
expect_status 502 "${by_name[@]}" "http://www.origin.test:$WEB/hello"
expect_match "broken on the proxy's side" "$BODY" "502 body"
expect_no_match "proxy\.keytab" "$BODY" "502 body (the keytab's path is for the admin only)"
eventually 5 grep -qi 'no such file' "$T/error.log" ||
	fail "the error log does not say why: $(cat "$T/error.log")"
expect_eq 1 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/502 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
eventually 5 grep -q 'keytab .*proxy\.keytab' "$T/error.log" ||
	fail "the error log does not name the keytab: $(cat "$T/error.log")"
pinhole_stop
