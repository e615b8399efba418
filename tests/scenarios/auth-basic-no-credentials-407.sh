#!/bin/sh
# A request without credentials gets 407 with `Proxy-Authenticate: Basic
# realm="<auth-realm>"` and a short text body; the connection stays open, and
# the retry with credentials on that same connection gets through.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth-realm "Office proxy"
auth basic htpasswd $T/users.htpasswd
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_eq "Proxy authentication required." "$BODY" "407 body"
expect_match '^Proxy-Authenticate: Basic realm="Office proxy"' "$HEADERS" "407 headers"
expect_eq 1 "$(grep -ci '^Proxy-Authenticate:' <<<"$HEADERS")" "Proxy-Authenticate headers"
expect_match '^Content-Type: text/plain' "$HEADERS" "407 headers"
expect_no_match '^Connection: close' "$HEADERS" "407 headers"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_NONE/- "

# The retry on the same connection (YWxpY2U6c2VjcmV0 is alice:secret).
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 407 [^\r]*\r\n' expect '\r\n\r\nProxy authentication required\.\n' \
	quiet 0.3 \
	send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n' expect 'hello from the origin\n'
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
pinhole_stop
