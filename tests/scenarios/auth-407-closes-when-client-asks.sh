#!/bin/sh
# A 407 keeps the connection open (for GET and CONNECT), unless the client
# asked to close it (`Connection: close`, or HTTP/1.0): then the 407 says
# `Connection: close` and the proxy closes.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

get="GET http://www.origin.test:$WEB/hello"
host="Host: www.origin.test:$WEB\r\n"
connect="CONNECT www.origin.test:443"
for req in "$get HTTP/1.1\r\n${host}Connection: close\r\n\r\n" \
	"$get HTTP/1.0\r\n$host\r\n" \
	"$get HTTP/1.1\r\n${host}Proxy-Connection: close\r\n\r\n" \
	"$connect HTTP/1.1\r\nHost: www.origin.test:443\r\nConnection: close\r\n\r\n" \
	"$connect HTTP/1.0\r\nHost: www.origin.test:443\r\n\r\n"; do
	raw send "$req" expect '^HTTP/1\.[01] 407 [^\r]*\r\n' expect '\r\nConnection: close\r\n' \
		expect '\r\nProxy authentication required\.\n' eof
done
raw send "$get HTTP/1.1\r\n$host\r\n" expect '^HTTP/1\.1 407 [^\r]*\r\n' \
	expect '\r\n\r\nProxy authentication required\.\n' reject 'Connection: close' quiet 0.5
raw send "CONNECT www.origin.test:443 HTTP/1.1\r\nHost: www.origin.test:443\r\n\r\n" \
	expect '^HTTP/1\.1 407 [^\r]*\r\n' expect '\r\n\r\nProxy authentication required\.\n' \
	reject 'Connection: close' quiet 0.5
pinhole_stop
