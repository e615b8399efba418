#!/bin/sh
# With tls-inspect, an https:// fetch through pinhole is answered with a
# certificate pinhole minted: issued by pinhole's CA (`pinhole ca create`),
# for the name the client asked (SAN), CA:FALSE, serverAuth, valid a week at
# most, an EC P-256 key.  A client trusting only pinhole's CA gets the page;
# the access log has the inner https:// request and the CONNECT marked
# tls-inspected.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
hosts_entry 127.0.0.1 www.inspect.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
allow all
EOF

# Trusting pinhole's CA only: the page comes through the inspected session.
expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body fetched through the inspected session"
origin_saw WEB '^conn-[0-9]+ GET /hello$'
log_line_matching " TCP_[A-Z_]+/200 [0-9]+ GET https://www\.inspect\.test:$WEB/hello "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inspect\.test:$WEB .* tls-inspected$"

# Trusting the origin's CA only: the minted certificate is refused.
pcurl -o /dev/null --cacert "$T/ca.pem" "https://www.inspect.test:$WEB/hello" 2>"$T/curl.err"
rc=$?
expect_eq 60 "$rc" "curl exit status trusting the origin's CA only ($(cat "$T/curl.err"))"

# What the client sees.
peer_cert www.inspect.test "$WEB"
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer of the certificate seen through pinhole"
openssl verify -CAfile "$PCA_CRT" -purpose sslserver "$T/peer.pem" >"$T/verify.out" 2>&1 ||
	fail "the minted certificate does not verify against pinhole's CA: $(cat "$T/verify.out")"
openssl verify -CAfile "$PCA_CRT" -verify_hostname www.inspect.test "$T/peer.pem" >"$T/verify.out" 2>&1 ||
	fail "the minted certificate is not valid for www.inspect.test: $(cat "$T/verify.out")"
expect_match 'DNS:www\.inspect\.test' "$PEER_TEXT" "subjectAltName of the minted certificate"
expect_match 'CA:FALSE' "$PEER_TEXT" "basicConstraints of the minted certificate"
expect_match 'TLS Web Server Authentication' "$PEER_TEXT" "extendedKeyUsage of the minted certificate"
expect_match 'Public Key Algorithm: id-ecPublicKey' "$PEER_TEXT" "key algorithm of the minted certificate"
expect_match '(NIST CURVE: P-256|ASN1 OID: prime256v1)' "$PEER_TEXT" "curve of the minted certificate"
[ "$PEER_PIN" != "$(key_pin)" ] || fail "the minted certificate carries the origin's own key"

# Validity: started already, and at most 8 days long.
start=$(date -d "$(openssl x509 -in "$T/peer.pem" -noout -startdate | cut -d= -f2)" +%s)
end=$(date -d "$(openssl x509 -in "$T/peer.pem" -noout -enddate | cut -d= -f2)" +%s)
now=$(date +%s)
[ "$start" -le "$now" ] || fail "the minted certificate is not valid yet (notBefore $start > now $now)"
[ "$end" -gt "$now" ] || fail "the minted certificate has expired (notAfter $end <= now $now)"
[ $((end - start)) -le $((8 * 86400)) ] ||
	fail "the minted certificate is valid $(((end - start) / 3600)) h, more than 8 days"
pinhole_stop
