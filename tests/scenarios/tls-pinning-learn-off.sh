#!/bin/sh
# With `pinning-learn off`, a client refusing the minted certificate with a
# certificate alert is logged (warn, with a hint at pinning-learn) every
# time, but the domain is never learned: the third refusal is still
# inspected and still fails.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
hosts_entry 127.0.0.1 www.inspect.test
mkdir "$T/state"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
pinning-learn off
state-dir $T/state
allow all
EOF
URL=https://www.inspect.test:$WEB/hello

# curl trusting only the origin's CA refuses pinhole's minted certificate
# with the alert "unknown CA", as a pinning client would.
for n in 1 2 3; do
	BODY=$(pcurl --cacert "$T/ca.pem" "$URL" 2>"$T/pin.curlerr")
	CURL_RC=$?
	expect_eq 60 "$CURL_RC" "refusal #$n with pinning-learn off (exit 60 = certificate problem; $(cat "$T/pin.curlerr"))"
	s=s
	[ "$n" = 1 ] && s=
	error_log_matching "warn: pinning: a client refused the minted certificate for www\.inspect\.test with a certificate alert \($n time$s, 1 client\).*pinning-learn on"
done
expect_eq 3 "$(grep -c " CONNECT www\.inspect\.test:$WEB .* tls-inspected$" "$ACCESS_LOG")" \
	"tunnel lines logged tls-inspected"
no_log_line_matching "tls-spliced-learned"
expect_no_match 'learned as certificate-pinned' "$(cat "$T/pinhole.err")" "error log"
[ ! -s "$T/state/learned-no-inspect" ] ||
	fail "pinning-learn off wrote a learned list: $(cat "$T/state/learned-no-inspect")"

# Without the pin the host is inspected and works.
expect_status 200 --cacert "$PCA_CRT" "$URL"
log_line_matching " GET https://www\.inspect\.test:$WEB/hello "
pinhole_stop
