#!/bin/sh
# `quirk inspect-all` reproduces a proxy that ignores its bypass list:
# pinned.test is in `no-inspect` yet is inspected, the client sees pinhole's
# certificate and a client pinning the origin's key fails.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB pinned.test
PIN=$(key_pin)
hosts_entry 127.0.0.1 pinned.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
no-inspect pinned.test
quirk inspect-all
allow all
EOF
URL=https://pinned.test:$WEB/hello

peer_cert pinned.test "$WEB"
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer seen for pinned.test with quirk inspect-all"
[ "$PEER_PIN" != "$PIN" ] || fail "pinned.test shows the origin's key despite quirk inspect-all"

pin_curl "$PIN" "$URL"
expect_eq 90 "$CURL_RC" "pinned fetch of pinned.test with quirk inspect-all (exit 90 = pin mismatch; $CURL_ERR)"
expect_status 200 --cacert "$PCA_CRT" "$URL"
expect_eq "hello from the origin" "$BODY" "body through the inspected session"
log_line_matching " GET https://pinned\.test:$WEB/hello "
log_line_matching " CONNECT pinned\.test:$WEB .* tls-inspected$"
no_log_line_matching "tls-spliced-no-inspect"
pinhole_stop
