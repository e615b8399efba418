#!/bin/sh
# A client configured with https:// for a plain proxy listener starts a
# TLS handshake where a request should be.  It cannot read an HTTP answer:
# pinhole answers with the TLS alert protocol_version and closes at once,
# so curl fails within a second with "tlsv1 alert protocol version" (exit
# 35) instead of waiting; the error log says to configure http:// (or give
# the listener a certificate) and /metrics counts it.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"
. "$PH_LIB/admin.sh"

make_proxy_cert
start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

for url in "http://www.origin.test:$WEB/hello" "https://www.secure.test:$TLS/hello"; do
	start=$(date +%s%N)
	pcurl --cacert "$T/ca.pem" -o /dev/null "$url" 2>"$T/curl.err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_eq 35 "$rc" "curl's exit status for $url through https:// to a plain listener"
	expect_match 'tlsv1 alert protocol version' "$(cat "$T/curl.err")" "what curl prints for $url"
	[ "$ms" -lt 1000 ] || fail "curl took $ms ms to fail for $url"
done

expect_eq 0 "$(origin_count WEB)" "requests the origin received"
expect_eq 0 "$(origin_count TLS)" "connections the TLS origin received"
error_log=$(cat "$T/pinhole.err")
expect_match "warn: 127\.0\.0\.1: a TLS handshake to the plain HTTP proxy listener 127\.0\.0\.1:$PH_PORT: the client is configured with https:// for this proxy; configure it as http://HOST:$PH_PORT, or give this listen line tls CERT KEY" \
	"$error_log" "the error log"
admin_get /metrics
expect_match '^pinhole_listener_wrong_protocol_total\{listener="plain"\} 2$' "$BODY" "/metrics"

# The same client configured with http:// is served.
curl -q -sS --max-time 15 -x "http://127.0.0.1:$PH_PORT" -o "$T/ok.body" "http://www.origin.test:$WEB/hello" ||
	fail "curl through http:// failed"
expect_eq "hello from the origin" "$(cat "$T/ok.body")" "body through the plain listener"
pinhole_stop
