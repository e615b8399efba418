# tests/lib/inspect.sh - helpers for the TLS inspection scenarios
# (tests/scenarios/tls-*.sh), sourced after harness.sh:
#
#     . "$PH_LIB/inspect.sh"
#
# make_pinhole_ca makes pinhole's own CA with `pinhole ca create $T/pca`
# ($PCA_CRT, $PCA_KEY, for `tls-inspect ca $PCA_CRT $PCA_KEY`) and
# $T/trust-both.pem, a bundle of it and the harness CA ($T/ca.pem), so that a
# client trusts both what pinhole mints and what origins present, and only a
# pin tells them apart.  key_pin gives curl's --pinnedpubkey value of a key;
# pin_curl fetches a URL with that pin; peer_cert shows the certificate a
# client sees through the proxy (openssl s_client -proxy); tls_raw runs
# rawclient.py's steps inside a TLS session opened through a CONNECT
# (tests/lib/tlsclient.py); start_tls_origin_own starts TLS origins that
# each keep their own certificate.

command -v openssl >/dev/null || skip "needs openssl (apt-get install openssl)"

PCA_DIR=$T/pca
PCA_CRT=$PCA_DIR/ca.crt
PCA_KEY=$PCA_DIR/ca.key

# make_pinhole_ca: pinhole's CA in $T/pca, and $T/trust-both.pem.
make_pinhole_ca() {
	make_ca
	run_pinhole ca create "$PCA_DIR"
	[ "$RC" = 0 ] || fail "pinhole ca create $PCA_DIR exited $RC: $ERR"
	[ -s "$PCA_CRT" ] && [ -s "$PCA_KEY" ] ||
		fail "pinhole ca create made no ca.crt/ca.key in $PCA_DIR: $(ls -l "$PCA_DIR" 2>&1)"
	cat "$T/ca.pem" "$PCA_CRT" >"$T/trust-both.pem"
}

# key_pin [KEYFILE]: prints sha256//BASE64 of the public key of KEYFILE
# (default $T/leaf.key, the origin's key from make_leaf).
key_pin() {
	local h
	h=$(openssl pkey -in "${1:-$T/leaf.key}" -pubout -outform der 2>/dev/null |
		openssl dgst -sha256 -binary | base64) || fail "cannot hash the key ${1:-$T/leaf.key}"
	echo "sha256//$h"
}

# pin_curl PIN URL [CURL ARGS...]: GET URL through the proxy trusting both
# CAs, with --pinnedpubkey PIN; curl's exit status is in $CURL_RC, the body
# in $BODY, its error message in $CURL_ERR.
pin_curl() {
	local pin=$1 url=$2
	shift 2
	BODY=$(pcurl --cacert "$T/trust-both.pem" --pinnedpubkey "$pin" "$@" "$url" 2>"$T/pin.curlerr")
	CURL_RC=$?
	CURL_ERR=$(cat "$T/pin.curlerr")
}

# peer_cert HOST PORT [SNI]: the first certificate a TLS client sees for
# HOST:PORT through the proxy (CONNECT by openssl s_client -proxy, SNI
# defaults to HOST).  $T/peer.pem holds it; $PEER_TEXT is `openssl x509
# -text`, $PEER_ISSUER and $PEER_SUBJECT its names (RFC 2253), $PEER_PIN its
# key as key_pin prints it.
peer_cert() {
	local host=$1 port=$2 sni=${3:-$1}
	timeout 15 openssl s_client -proxy "127.0.0.1:$PH_PORT" -connect "$host:$port" \
		-servername "$sni" -showcerts </dev/null >"$T/s_client.out" 2>"$T/s_client.err"
	sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/{p;/-----END CERTIFICATE-----/q}' \
		"$T/s_client.out" >"$T/peer.pem"
	[ -s "$T/peer.pem" ] || fail "openssl s_client through the proxy to $host:$port (SNI $sni) got no certificate:
$(cat "$T/s_client.err" "$T/s_client.out" | head -n 40)"
	PEER_TEXT=$(openssl x509 -in "$T/peer.pem" -noout -text 2>&1)
	PEER_ISSUER=$(openssl x509 -in "$T/peer.pem" -noout -issuer -nameopt RFC2253 2>&1)
	PEER_ISSUER=${PEER_ISSUER#issuer=}
	PEER_SUBJECT=$(openssl x509 -in "$T/peer.pem" -noout -subject -nameopt RFC2253 2>&1)
	PEER_SUBJECT=${PEER_SUBJECT#subject=}
	PEER_PIN=sha256//$(openssl x509 -in "$T/peer.pem" -noout -pubkey |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
}

# cert_subject FILE: the subject of a PEM certificate (RFC 2253).
cert_subject() {
	local s
	s=$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253) || fail "cannot read the certificate $1"
	echo "${s#subject=}"
}

# error_log_matching REGEX: within 5 s pinhole's error log (its stderr,
# $T/pinhole.err) has a line matching the ERE; the last one is in $LINE.
error_log_matching() {
	log_line_matching "$1" "$T/pinhole.err"
}

# tls_raw TARGET STEP...: tests/lib/tlsclient.py through the proxy: CONNECT
# TARGET, TLS trusting pinhole's CA ($TLS_RAW_CA to trust another bundle),
# then rawclient.py's steps inside the session; fails the scenario if a step
# fails.  What was printed is in $RAW_OUT.
tls_raw() {
	"$PY" "$PH_LIB/tlsclient.py" --ca "${TLS_RAW_CA:-$PCA_CRT}" 127.0.0.1 "$PH_PORT" "$@" \
		>"$T/raw.out" 2>"$T/raw.err"
	RAW_RC=$?
	RAW_OUT=$(cat "$T/raw.out")
	if [ "$RAW_RC" != 0 ]; then
		cat "$T/raw.err" >&2
		fail "TLS exchange through CONNECT $1 failed (see above)"
	fi
}

# start_tls_origin_own VAR NAME...: start_tls_origin with a certificate
# and key of its own ($T/VAR.pem, $T/VAR.key; $T/leaf.* are the last ones
# made), so that several TLS origins with different names can run.
start_tls_origin_own() {
	local var=$1
	shift
	make_leaf "$@"
	cp "$T/leaf.pem" "$T/$var.pem" && cp "$T/leaf.key" "$T/$var.key" ||
		fail "cannot copy the certificate for $*"
	start_origin "$var" http --cert "$T/$var.pem" --key "$T/$var.key"
}
