#!/bin/sh
# When inspecting, pinhole verifies the origin's certificate against
# tls-trust and the host name.  An origin whose certificate names another
# host, has expired, or comes from a CA not in tls-trust is never hidden
# behind a certificate pinhole vouches for: the client's handshake ends with
# a TLS alert (access denied), no request reaches the origin, and the error
# log says which check failed.  None of it counts as a pinning failure.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca

# Certificate for the wrong name: other.test, reached as www.inspect.test.
start_tls_origin WRONG other.test

# Expired: signed by the test CA with dates in the past (openssl ca can set
# them; openssl x509 -req of this OpenSSL cannot).
mkdir "$T/cadb"
: >"$T/cadb/index.txt"
echo 1000 >"$T/cadb/serial"
cat >"$T/cadb/ca.cnf" <<EOF
[ ca ]
default_ca = test
[ test ]
database = $T/cadb/index.txt
new_certs_dir = $T/cadb
serial = $T/cadb/serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
EOF
printf 'subjectAltName=DNS:www.inspect.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
	>"$T/expired.ext"
{
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/expired.key" -out "$T/expired.csr" -subj "/CN=www.inspect.test" &&
		openssl ca -batch -config "$T/cadb/ca.cnf" -cert "$T/ca.pem" -keyfile "$T/ca.key" \
			-in "$T/expired.csr" -out "$T/expired.pem" -extfile "$T/expired.ext" \
			-startdate 20200101000000Z -enddate 20200201000000Z
} >"$T/openssl-expired.out" 2>&1 || fail "cannot make the expired certificate: $(cat "$T/openssl-expired.out")"
openssl x509 -in "$T/expired.pem" -noout -checkend 0 >/dev/null &&
	fail "the certificate meant to be expired is not: $(openssl x509 -in "$T/expired.pem" -noout -dates)"
start_origin EXPIRED http --cert "$T/expired.pem" --key "$T/expired.key"

# Self-signed, from no CA in tls-trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/self.key" -out "$T/self.pem" -days 2 -subj "/CN=www.inspect.test" \
	-addext subjectAltName=DNS:www.inspect.test >"$T/openssl-self.out" 2>&1 ||
	fail "cannot make the self-signed certificate: $(cat "$T/openssl-self.out")"
start_origin SELF http --cert "$T/self.pem" --key "$T/self.key"

hosts_entry 127.0.0.1 www.inspect.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
allow all
EOF

# refused PORT WHY-REGEX: curl trusting pinhole's CA gets an alert from
# pinhole, the origin sees no request, the error log says why.
refused() {
	pcurl -o /dev/null --cacert "$PCA_CRT" "https://www.inspect.test:$1/hello" 2>"$T/curl.err"
	rc=$?
	[ "$rc" != 0 ] || fail "curl fetched https://www.inspect.test:$1/hello although the origin's certificate is bad"
	expect_match_i 'alert access denied' "$(cat "$T/curl.err")" "curl's error for the origin on port $1 (exit $rc)"
	error_log_matching "inspection of www\.inspect\.test:$1: the origin's certificate failed verification: $2"
	no_log_line_matching " https://www\.inspect\.test:$1/"
}

refused "$WRONG" "hostname mismatch"
expect_eq 0 "$(origin_count WRONG)" "requests that reached the origin with the wrong name"
refused "$EXPIRED" "certificate has expired"
expect_eq 0 "$(origin_count EXPIRED)" "requests that reached the expired origin"
refused "$SELF" "self[- ]signed certificate"
expect_eq 0 "$(origin_count SELF)" "requests that reached the self-signed origin"

# openssl s_client sees the alert, and no certificate at all.
timeout 15 openssl s_client -proxy "127.0.0.1:$PH_PORT" -connect "www.inspect.test:$EXPIRED" \
	-servername www.inspect.test </dev/null >"$T/s_client.out" 2>&1
expect_match 'alert access denied' "$(cat "$T/s_client.out")" "openssl s_client to the expired origin"
expect_no_match 'BEGIN CERTIFICATE' "$(cat "$T/s_client.out")" "openssl s_client to the expired origin"

expect_no_match 'pinning:' "$(cat "$T/pinhole.err")" "error log (a bad origin is not a pinning failure)"
pinhole_stop
