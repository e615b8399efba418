#!/bin/sh
# Headless Chromium with --proxy-server=https://proxy.test:PORT (an HTTPS
# proxy listener), trusting the test CA and pinhole's inspection CA through
# its NSS database ($HOME/.pki/nssdb, as a managed desktop would), loads an
# http:// page, an https:// page through a tunnel inside the proxy's TLS,
# and an https:// page inspected inside it.  The same browser without the
# CA in its database refuses the proxy: the page does not load and the
# error log says the client refused the listener's certificate.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/https_proxy.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "chromium is not installed (apt-get install chromium)"
command -v certutil >/dev/null || skip "needs certutil (apt-get install libnss3-tools)"

make_pinhole_ca
make_proxy_cert
start_origin WEB http
start_tls_origin_own TLS www.secure.test
start_tls_origin_own INS www.inspected.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test www.inspected.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
inspect domain www.inspected.test
allow domain www.origin.test www.secure.test www.inspected.test
EOF

# A home whose NSS database trusts the CAs given.
make_home() {
	local home=$1 ca
	shift
	mkdir -p "$home/.pki/nssdb" && certutil -d "sql:$home/.pki/nssdb" -N --empty-password ||
		fail "cannot make an NSS database in $home"
	for ca in "$@"; do
		certutil -d "sql:$home/.pki/nssdb" -A -t "C,," -n "$(basename "$ca")" -i "$ca" ||
			fail "cannot add $ca to the NSS database"
	done
}

# chromium_dump HOME URL: the page as Chromium rendered it.  proxy.test
# resolves to 127.0.0.1 by a host resolver rule; <-loopback> sends
# loopback through the proxy too.
chromium_dump() {
	HOME=$1 timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$1/profile" \
		--proxy-server="https://$PXY_NAME:$PH_PORT" --proxy-bypass-list='<-loopback>' \
		--host-resolver-rules="MAP $PXY_NAME 127.0.0.1" --dump-dom "$2" 2>>"$T/chromium.err"
}

make_home "$T/trusting" "$T/ca.pem" "$PCA_CRT"
page=$(chromium_dump "$T/trusting" "http://www.origin.test:$WEB/hello")
expect_match 'hello from the origin' "$page" "the http:// page in Chromium"
page=$(chromium_dump "$T/trusting" "https://www.secure.test:$TLS/hello")
expect_match 'hello from the origin' "$page" "the https:// page in Chromium"
page=$(chromium_dump "$T/trusting" "https://www.inspected.test:$INS/hello")
expect_match 'hello from the origin' "$page" "the inspected https:// page in Chromium"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS - HIER_DIRECT/127\.0\.0\.1 tls-spliced-not-matched$"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inspected\.test:$INS - HIER_DIRECT/127\.0\.0\.1 tls-inspected$"
log_line_matching " TCP_MISS/200 [0-9]+ GET https://www\.inspected\.test:$INS/hello "
no_log_line_matching 'TLS handshake with the HTTPS proxy listener' "$T/pinhole.err"

make_home "$T/untrusting"
page=$(chromium_dump "$T/untrusting" "http://www.origin.test:$WEB/hello?untrusted")
expect_no_match 'hello from the origin' "$page" "the page in a Chromium that does not trust the proxy"
no_log_line_matching 'GET http://www\.origin\.test:[0-9]+/hello\?untrusted'
error_log_matching "127\.0\.0\.1: TLS handshake with the HTTPS proxy listener 127\.0\.0\.1:$PH_PORT failed: the client refused the listener's certificate"
pinhole_stop
