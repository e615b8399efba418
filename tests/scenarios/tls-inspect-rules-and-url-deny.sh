#!/bin/sh
# `inspect domain .inspect.test` inspects that domain only: another TLS host
# is spliced (tls-spliced-not-matched) and shows its own certificate.  Inside
# an inspected session each request meets the access rules again: with
# `deny domain www.inspect.test method POST` a GET goes through, while a POST
# gets a 403 naming the rule's file:line and never reaches the origin.  An IP
# literal in the inspect rule matches a CONNECT to that address.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin_own WEB www.inspect.test inspect.test
start_tls_origin_own OTHER www.other.test
hosts_entry 127.0.0.1 www.inspect.test inspect.test www.other.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
inspect domain .inspect.test 127.0.0.1
deny domain www.inspect.test method POST
allow dst-local
allow all
EOF

# Not matched by any inspect rule: spliced, the origin's own certificate.
expect_status 200 --cacert "$T/ca.pem" "https://www.other.test:$OTHER/hello"
expect_eq "hello from the origin" "$BODY" "body from www.other.test"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.other\.test:$OTHER .* tls-spliced-not-matched$"
no_log_line_matching " https://www\.other\.test"
peer_cert www.other.test "$OTHER"
expect_eq "$(cert_subject "$T/ca.pem")" "$PEER_ISSUER" "issuer seen for www.other.test (not inspected)"

# .inspect.test: the apex and its subdomains are inspected.
peer_cert inspect.test "$WEB"
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer seen for inspect.test (inspected)"
expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body of the inspected GET"
log_line_matching " TCP_[A-Z_]+/200 [0-9]+ GET https://www\.inspect\.test:$WEB/hello "
log_line_matching " CONNECT www\.inspect\.test:$WEB .* tls-inspected$"

# POST inside the inspected session: denied by the rule on line 7.
expect_status 403 --cacert "$PCA_CRT" -d 'x=1' "https://www.inspect.test:$WEB/echo"
expect_match_i 'denied' "$BODY" "403 body"
expect_match 'pinhole\.conf:7' "$BODY" "403 body"
log_line_matching " TCP_DENIED/403 [0-9]+ POST https://www\.inspect\.test:$WEB/echo "
expect_no_match 'POST' "$(cat "$T/WEB.requests")" "requests the origin received"

# A GET on the same URL still works.
expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/echo"
expect_match '"method": "GET"' "$BODY" "/echo body"

# CONNECT to the address 127.0.0.1 (SNI www.inspect.test): matched by the
# IP literal, inspected (www.other.test, by its name, was not).
peer_cert 127.0.0.1 "$WEB" www.inspect.test
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer seen for CONNECT 127.0.0.1 (inspect rule names the address)"
log_line_matching " CONNECT 127\.0\.0\.1:$WEB .* tls-inspected$"
pinhole_stop
