#!/bin/sh
# With `pinning-learn off`, a client refusing the minted certificate is
# logged (warn, with a hint at pinning-learn) every time, but the domain is
# never learned: the third pinned fetch is still inspected and still fails.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
PIN=$(key_pin)
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

for n in 1 2 3; do
	pin_curl "$PIN" "$URL"
	expect_eq 90 "$CURL_RC" "pinned fetch #$n with pinning-learn off (exit 90 = pin mismatch; $CURL_ERR)"
	s=s
	[ "$n" = 1 ] && s=
	error_log_matching "warn: pinning: a client refused the minted certificate for www\.inspect\.test \($n time$s\).*pinning-learn on"
done
# Each attempt: the tunnel's line once the handshake is done, and a second
# one when the client leaves without a request (the pinning failure).
expect_eq 6 "$(grep -c " CONNECT www\.inspect\.test:$WEB .* tls-inspected$" "$ACCESS_LOG")" \
	"tunnel lines logged tls-inspected"
no_log_line_matching "tls-spliced-learned"
expect_no_match 'learned as certificate-pinned' "$(cat "$T/pinhole.err")" "error log"
[ ! -s "$T/state/learned-no-inspect" ] ||
	fail "pinning-learn off wrote a learned list: $(cat "$T/state/learned-no-inspect")"

# Without the pin the host is inspected and works.
expect_status 200 --cacert "$PCA_CRT" "$URL"
log_line_matching " GET https://www\.inspect\.test:$WEB/hello "
pinhole_stop
