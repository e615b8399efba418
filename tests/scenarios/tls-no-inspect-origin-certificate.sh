#!/bin/sh
# `no-inspect` domains are spliced untouched while everything else is
# inspected: the client sees the origin's own certificate, so a client that
# pins the origin's key (curl --pinnedpubkey) works through pinhole.  The
# ClientHello's SNI alone does not splice a CONNECT that names another host
# (domain fronting): both names must be no-inspect.  An IP literal matches a
# CONNECT to that address.  For an inspected host the same pin fails.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
# One origin, one certificate for every name the scenario uses.
start_tls_origin WEB pinned.test media.wbx2.test wbx2.test www.inspect.test
PIN=$(key_pin)
hosts_entry 127.0.0.1 pinned.test media.wbx2.test www.inspect.test relay.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
no-inspect pinned.test *.wbx2.test
no-inspect 127.0.0.1
allow dst-local
allow all
EOF

# pinned.test: the origin's certificate, from the harness CA.
peer_cert pinned.test "$WEB"
expect_eq "$(cert_subject "$T/ca.pem")" "$PEER_ISSUER" "issuer seen for pinned.test (no-inspect)"
expect_eq "$PIN" "$PEER_PIN" "key seen for pinned.test"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT pinned\.test:$WEB .* tls-spliced-no-inspect$"

expect_status 200 --cacert "$T/ca.pem" "https://pinned.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body from pinned.test"
pin_curl "$PIN" "https://pinned.test:$WEB/hello"
expect_eq 0 "$CURL_RC" "curl --pinnedpubkey (origin's key) to pinned.test through pinhole ($CURL_ERR)"
expect_eq "hello from the origin" "$BODY" "body from pinned.test with the pin"
# Spliced: no https:// line, pinhole saw no request inside.
no_log_line_matching " https://pinned\.test"

# *.wbx2.test named only by the SNI of a CONNECT to relay.test: inspected.
peer_cert relay.test "$WEB" media.wbx2.test
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer seen for SNI media.wbx2.test (CONNECT relay.test)"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT relay\.test:$WEB .* tls-inspected-sni-mismatch$"
pin_curl "$PIN" "https://media.wbx2.test:$WEB/hello"
expect_eq 0 "$CURL_RC" "curl --pinnedpubkey to media.wbx2.test through pinhole ($CURL_ERR)"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT media\.wbx2\.test:$WEB .* tls-spliced-no-inspect$"

# The apex wbx2.test is not matched by *.wbx2.test, nor is www.inspect.test:
# inspected, pinhole's certificate, and the pin fails.
peer_cert www.inspect.test "$WEB"
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer seen for www.inspect.test (inspected)"
pin_curl "$PIN" "https://www.inspect.test:$WEB/hello"
expect_eq 90 "$CURL_RC" "curl --pinnedpubkey to the inspected www.inspect.test (exit 90 = pin mismatch; $CURL_ERR)"
peer_cert relay.test "$WEB" wbx2.test
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer seen for SNI wbx2.test (not matched by *.wbx2.test)"
# Without the pin, the inspected host still works.
expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/hello"
log_line_matching " GET https://www\.inspect\.test:$WEB/hello "

# `no-inspect 127.0.0.1`: a CONNECT to that address is spliced, whatever
# the SNI says.
peer_cert 127.0.0.1 "$WEB" www.inspect.test
expect_eq "$(cert_subject "$T/ca.pem")" "$PEER_ISSUER" "issuer seen for CONNECT 127.0.0.1 (no-inspect 127.0.0.1)"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$WEB .* tls-spliced-no-inspect$"
pinhole_stop
