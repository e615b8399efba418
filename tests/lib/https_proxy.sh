# tests/lib/https_proxy.sh - helpers for the HTTPS proxy listener scenarios
# (tests/scenarios/listen-tls-*.sh: `listen ADDR:PORT tls CERT KEY`),
# sourced after harness.sh:
#
#     . "$PH_LIB/https_proxy.sh"
#
#     make_proxy_cert                     # $PXY_CRT, $PXY_KEY for proxy.test
#     pinhole_start <<EOF
#     listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
#     ...
#     EOF
#     expect_status 200 "http://www.origin.test:$WEB/hello"
#
# Sourcing it points the harness's clients at the HTTPS proxy: $PROXY is
# https://proxy.test:$PH_PORT, and pcurl (so expect_status) resolves
# proxy.test to 127.0.0.1 (curl --resolve, which covers the proxy's name
# too) and trusts the harness CA ($T/ca.pem) for the proxy's certificate
# (--proxy-cacert).  PXY_NAME is that name.

command -v openssl >/dev/null || skip "needs openssl (apt-get install openssl)"

PXY_NAME=proxy.test
PXY_CRT=$T/proxy.pem
PXY_KEY=$T/proxy.key
PROXY=https://$PXY_NAME:$PH_PORT

# make_proxy_cert [NAME...]: a certificate for the proxy's name (default
# proxy.test) from the harness CA, $PXY_CRT and $PXY_KEY (mode 600).
make_proxy_cert() {
	[ $# -gt 0 ] || set -- "$PXY_NAME"
	make_leaf "$@"
	cp "$T/leaf.pem" "$PXY_CRT" && cp "$T/leaf.key" "$PXY_KEY" && chmod 600 "$PXY_KEY" ||
		fail "cannot copy the proxy's certificate"
}

# pcurl ARGS...: curl through the HTTPS proxy on $PH_PORT (silent, at most
# 15 s), trusting the harness CA for the proxy.
pcurl() {
	curl -q -sS --max-time 15 -x "$PROXY" --resolve "$PXY_NAME:$PH_PORT:127.0.0.1" \
		--proxy-cacert "$T/ca.pem" "$@"
}

# proxy_handshake [OPENSSL S_CLIENT ARGS...]: a TLS handshake with the
# listener by openssl s_client (SNI proxy.test, trusting the harness CA or
# the bundle $HS_CA), nothing sent after it; what it printed is in $HS_OUT,
# its status in $HS_RC.
proxy_handshake() {
	HS_OUT=$(timeout 15 openssl s_client -connect "127.0.0.1:$PH_PORT" -servername "$PXY_NAME" \
		-CAfile "${HS_CA:-$T/ca.pem}" -verify_return_error "$@" </dev/null 2>&1)
	HS_RC=$?
}
