#!/bin/sh
# A client configured with http:// for an HTTPS proxy listener sends plain
# HTTP where the TLS handshake should be: it gets, in plain text and within
# a second, 400 naming the fix (configure the proxy as https://), and the
# connection closes; the error log and /metrics say what happened.  The
# listener goes on serving TLS clients.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"
. "$PH_LIB/admin.sh"

make_proxy_cert
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin

# curl with http:// for the proxy.
start=$(date +%s%N)
codes=$(curl -q -sS --max-time 10 -x "http://127.0.0.1:$PH_PORT" -o "$T/plain.body" -w '%{http_code}' \
	"http://www.origin.test:$WEB/hello" 2>"$T/plain.err")
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq 400 "$codes" "status curl got speaking plain HTTP to the HTTPS listener ($(cat "$T/plain.err"))"
expect_match "^This port speaks TLS \(an HTTPS proxy\): configure the proxy as https://HOST:$PH_PORT, not http://\.\$" \
	"$(cat "$T/plain.body")" "the 400's text"
[ "$ms" -lt 1000 ] || fail "the 400 took $ms ms"

# The answer comes at once and the connection closes (no keep-alive, no
# waiting for a handshake that will not come).
start=$(date +%s%N)
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 400 Bad Request\r\n.*Connection: close\r\n.*\r\n\r\nThis port speaks TLS' eof
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 1000 ] || fail "the raw client's 400 and close took $ms ms"

expect_eq 0 "$(origin_count WEB)" "requests the origin received"
log_line_matching " NONE_NONE/400 [0-9]+ - - - HIER_NONE/- text/plain"
error_log=$(cat "$T/pinhole.err")
expect_match "warn: 127\.0\.0\.1: plain HTTP to the HTTPS proxy listener 127\.0\.0\.1:$PH_PORT: the client is configured with http:// for this proxy; it must use https://" \
	"$error_log" "the error log"
admin_get /metrics
expect_match '^pinhole_listener_wrong_protocol_total\{listener="tls"\} 2$' "$BODY" "/metrics"

# TLS clients are served meanwhile.
expect_status 200 "http://www.origin.test:$WEB/hello"
pinhole_stop
