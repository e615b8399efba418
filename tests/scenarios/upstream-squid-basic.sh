#!/bin/sh
# `upstream-proxy http://parent:PORT credentials FILE` with Squid as the
# parent and Basic authentication (basic_ncsa_auth): plain HTTP and CONNECT
# reach the origin through Squid, which logs pinhole's user; pinhole's
# access log says FIRSTUP_PARENT/<parent host>.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"

start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test parent.pinhole.test
printf 'secret\n' | "$PINHOLE" passwd --basic pinhole-child >"$T/squid.htpasswd" ||
	fail "pinhole passwd --basic failed"
chmod 644 "$T/squid.htpasswd" # Squid's helper runs as its own user
squid_start PARENT <<EOF
auth_param basic program /usr/lib/squid/basic_ncsa_auth $T/squid.htpasswd
auth_param basic realm parent
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
EOF
printf 'pinhole-child:secret\n' >"$T/parent.cred"
chmod 600 "$T/parent.cred"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
upstream-proxy http://parent.pinhole.test:$PARENT credentials $T/parent.cred
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through Squid"
squid_log_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello pinhole-child HIER_DIRECT/"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - FIRSTUP_PARENT/parent\.pinhole\.test "

expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the tunnel through Squid"
expect_match '^HTTP/1\.1 200 Connection established$' "$HEADERS" "pinhole's own 200"
squid_log_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS pinhole-child HIER_DIRECT/"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS - FIRSTUP_PARENT/parent\.pinhole\.test "
origin_saw WEB '^conn-[0-9]+ GET /hello$'
[ "$(origin_count TLS)" -ge 1 ] || fail "the TLS origin saw no request"
pinhole_stop
