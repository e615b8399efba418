#!/bin/sh
# A parent that demands NTLM (a second pinhole with `auth ntlm users FILE`):
# pinhole answers with NTLMv2 from `credentials FILE` (CORP\bob), the
# handshake and the request it authorises on one connection, for plain
# HTTP (a request body too) and CONNECT; the parent logs CORP\bob.  The next request on the
# authenticated parent connection needs no new handshake.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"

printf 'secret\n' | "$PINHOLE" passwd --ntlm bob --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test parent.pinhole.test
PARENT=$(free_port)
parent_pinhole_start PARENT <<EOF
listen 127.0.0.1:$PARENT
access-log $T/parent-access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF
printf 'CORP\\bob:secret\n' >"$T/parent.cred"
chmod 600 "$T/parent.cred"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
upstream-proxy http://parent.pinhole.test:$PARENT credentials $T/parent.cred
allow all
EOF

# The first request carries a body: it goes out again with each leg.
head -c 3000 /dev/zero | tr '\0' x >"$T/upload"
expect_status 200 --data-binary "@$T/upload" "http://www.origin.test:$WEB/echo"
expect_eq 3000 "$(json_field "$BODY" body_length)" "body length the origin saw"
log_line_matching " TCP_MISS/200 [0-9]+ POST http://www\.origin\.test:$WEB/echo CORP\\\\bob HIER_DIRECT/" \
	"$T/parent-access.log"
log_line_matching " TCP_DENIED/407 [0-9]+ POST http://www\.origin\.test:$WEB/echo - " "$T/parent-access.log"

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through the parent"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello CORP\\\\bob HIER_DIRECT/" \
	"$T/parent-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - FIRSTUP_PARENT/parent\.pinhole\.test "

expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the tunnel through the parent"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS CORP\\\\bob HIER_DIRECT/" \
	"$T/parent-access.log"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS - FIRSTUP_PARENT/parent\.pinhole\.test "

# Two requests on one client connection: the second one goes on the
# parent connection the first authenticated, without a 407.
expect_status 200 "http://www.origin.test:$WEB/hello?one" "http://www.origin.test:$WEB/hello?two"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?two CORP\\\\bob " "$T/parent-access.log"
no_log_line_matching "TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?two " "$T/parent-access.log"
pinhole_stop
