#!/bin/sh
# `listen ... tls CERT KEY` files are checked by `pinhole validate` and at
# start-up, each mistake an error at the listen line's FILE:LINE: a key
# group or others may read (chmod 600, as for the inspection CA's key), a
# missing file, a file without a PEM certificate, a broken chain block, a
# key of another certificate, tls without its files.  `pinhole run` refuses
# to start on them.  A chain file (the certificate, then its intermediate)
# is sent whole: a client trusting only the root verifies it.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"

# validate_listen LINE: pinhole validate on a config whose line 2 is LINE.
validate_listen() {
	printf '# an HTTPS proxy\n%s\naccess-log %s squid\nallow all\n' "$1" "$T/access.log" >"$T/v.conf"
	run_pinhole validate -c "$T/v.conf"
}

make_proxy_cert
validate_listen "listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY"
expect_eq 0 "$RC" "pinhole validate with a good certificate and key (stderr: $ERR)"

chmod 644 "$PXY_KEY"
validate_listen "listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY"
expect_eq 1 "$RC" "pinhole validate with the key mode 644"
expect_match "^$T/v\.conf:2: listen 127\.0\.0\.1:$PH_PORT tls: key $PXY_KEY is readable or writable by group or others \(mode 0644\); .*chmod 600 $PXY_KEY\$" \
	"$ERR" "validate's error for the key mode 644"
run_pinhole run -c "$T/v.conf"
[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "pinhole run with the key mode 644 exited $RC (expected a refusal)"
expect_match "v\.conf:2: .*chmod 600" "$ERR" "pinhole run's error for the key mode 644"
port_listening "$PH_PORT" && fail "something listens on $PH_PORT although pinhole refused to start"
chmod 600 "$PXY_KEY"

validate_listen "listen 127.0.0.1:$PH_PORT tls $T/missing.pem $PXY_KEY"
expect_eq 1 "$RC" "pinhole validate with a missing certificate"
expect_match "^$T/v\.conf:2: .*cannot open certificate $T/missing\.pem: No such file or directory" "$ERR" \
	"validate's error for a missing certificate"

validate_listen "listen 127.0.0.1:$PH_PORT tls $PXY_CRT $T/missing.key"
expect_eq 1 "$RC" "pinhole validate with a missing key"
expect_match "^$T/v\.conf:2: .*cannot open key $T/missing\.key: No such file or directory" "$ERR" \
	"validate's error for a missing key"

echo "not a certificate" >"$T/garbage.pem"
validate_listen "listen 127.0.0.1:$PH_PORT tls $T/garbage.pem $PXY_KEY"
expect_eq 1 "$RC" "pinhole validate with a certificate file without PEM"
expect_match "^$T/v\.conf:2: .*certificate $T/garbage\.pem holds no PEM certificate" "$ERR" \
	"validate's error for a file without PEM"

{ cat "$PXY_CRT"; printf -- '-----BEGIN CERTIFICATE-----\nbm90IGJhc2U2NCBvZiBhIGNlcnRpZmljYXRl!!\n-----END CERTIFICATE-----\n'; } \
	>"$T/badchain.pem"
validate_listen "listen 127.0.0.1:$PH_PORT tls $T/badchain.pem $PXY_KEY"
expect_eq 1 "$RC" "pinhole validate with a broken chain block"
expect_match "^$T/v\.conf:2: .*certificate $T/badchain\.pem: the PEM block after certificate 1 is broken" "$ERR" \
	"validate's error for a broken chain block"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$T/other.key" 2>/dev/null &&
	chmod 600 "$T/other.key" || fail "cannot make another key"
validate_listen "listen 127.0.0.1:$PH_PORT tls $PXY_CRT $T/other.key"
expect_eq 1 "$RC" "pinhole validate with another certificate's key"
expect_match "^$T/v\.conf:2: .*key $T/other\.key does not match certificate $PXY_CRT" "$ERR" \
	"validate's error for a mismatched key"

validate_listen "listen 127.0.0.1:$PH_PORT tls $PXY_CRT"
expect_eq 1 "$RC" "pinhole validate with tls and one file"
expect_match "^$T/v\.conf:2: listen \.\.\. tls needs the certificate and key files" "$ERR" \
	"validate's error for tls without its key"
validate_listen "listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY tls $PXY_CRT $PXY_KEY"
expect_eq 1 "$RC" "pinhole validate with tls twice"
expect_match "^$T/v\.conf:2: listen: tls is given twice" "$ERR" "validate's error for tls twice"

# A chain: root -> intermediate -> proxy.test; the listener's file holds
# the certificate then the intermediate, the client trusts the root only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/root.key" \
	-out "$T/root.pem" -days 2 -subj "/CN=pinhole test root" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	>"$T/openssl.out" 2>&1 &&
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$T/inter.ext" &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/inter.key" \
		-out "$T/inter.csr" -subj "/CN=pinhole test intermediate" >>"$T/openssl.out" 2>&1 &&
	openssl x509 -req -in "$T/inter.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -set_serial 7 -days 2 \
		-extfile "$T/inter.ext" -out "$T/inter.pem" >>"$T/openssl.out" 2>&1 &&
	printf 'subjectAltName=DNS:proxy.test\nextendedKeyUsage=serverAuth\n' >"$T/chained.ext" &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/chained.key" \
		-out "$T/chained.csr" -subj "/CN=proxy.test" >>"$T/openssl.out" 2>&1 &&
	openssl x509 -req -in "$T/chained.csr" -CA "$T/inter.pem" -CAkey "$T/inter.key" -set_serial 8 -days 2 \
		-extfile "$T/chained.ext" -out "$T/chained.pem" >>"$T/openssl.out" 2>&1 ||
	fail "cannot make the chain: $(cat "$T/openssl.out")"
chmod 600 "$T/chained.key"
cat "$T/chained.pem" "$T/inter.pem" >"$T/chain-file.pem"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $T/chain-file.pem $T/chained.key
access-log $T/access.log squid
allow all
EOF
HS_CA=$T/root.pem proxy_handshake -showcerts
expect_eq 0 "$HS_RC" "openssl s_client trusting the root only (output: $HS_OUT)"
expect_match 'Verify return code: 0 \(ok\)' "$HS_OUT" "verification of the chain the listener sent"
expect_match '1 s:CN *= *pinhole test intermediate' "$HS_OUT" "the intermediate in the chain"
pinhole_stop
