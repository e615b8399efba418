#!/bin/sh
# curl --proxy-digest with a wrong password, over plain HTTP or for an
# https:// URL, ends with 407 and a fresh Digest challenge; the body says the
# credentials were refused and nothing reaches the origin.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
allow all
EOF

expect_status 407 --proxy-digest -U alice:wrong "http://www.origin.test:$WEB/hello"
expect_eq "Proxy authentication required: the credentials were refused." "$BODY" "407 body"
expect_match '^Proxy-Authenticate: Digest realm="pinhole", .*nonce="' "$HEADERS" "407 headers"
expect_status 407 --proxy-digest -U mallory:secret "http://www.origin.test:$WEB/hello"
expect_status 407 --proxy-digest -U alice:wrong --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq 0 "$(origin_count WEB)" "requests the plain origin saw"
expect_eq 0 "$(origin_count TLS)" "requests the TLS origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT www\.origin\.test:$TLS - "
no_log_line_matching " (alice|mallory) "
pinhole_stop
