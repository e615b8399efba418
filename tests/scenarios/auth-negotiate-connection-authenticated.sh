#!/bin/sh
# Negotiate authenticates the connection: after one request with alice's
# Kerberos token, later requests on that connection need no
# Proxy-Authorization and are logged as alice@TEST.PINHOLE too.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/kdc.sh"

kdc_have_binaries || skip "needs the MIT KDC (apt-get install krb5-kdc)"
command -v kinit >/dev/null || skip "needs kinit (apt-get install krb5-user)"
curl -V | grep -q SPNEGO || skip "needs a curl built with GSS-API/SPNEGO"
kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || fail "cannot start the test KDC"
kdc_add_user alice alice-secret || fail "cannot add alice to the test KDC"
kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab" || fail "cannot export the proxy's keytab"
kdc_kinit alice alice-secret || fail "kinit alice failed"

# curl sends its token on every request, so a raw client plays the browser:
# curl makes a token for HTTP/proxy.pinhole.test and hands it to a stand-in
# proxy that only records it; the raw client then uses it, once, on pinhole.
TOKEN_PORT=$(free_port)
spawn token "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
s.settimeout(15)
c, _ = s.accept()
c.settimeout(15)
data = b""
while b"\r\n\r\n" not in data:
    more = c.recv(65536)
    if not more:
        break
    data += more
for line in data.decode("latin-1").split("\r\n"):
    if line.lower().startswith("proxy-authorization:"):
        open(sys.argv[2], "w").write(line.split(":", 1)[1].strip() + "\n")
c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
c.close()
' "$TOKEN_PORT" "$T/token"
eventually 5 port_listening "$TOKEN_PORT" || fail "the token recorder does not listen"
curl -q -sS --max-time 15 --proxy-negotiate -U : -x "http://proxy.pinhole.test:$TOKEN_PORT" \
	--resolve "proxy.pinhole.test:$TOKEN_PORT:127.0.0.1" -o /dev/null "http://www.origin.test/" 2>"$T/curl.err"
[ -s "$T/token" ] || fail "curl sent no Negotiate token: $(cat "$T/curl.err" "$T/token.err")"
token=$(cat "$T/token")
expect_match '^Negotiate [A-Za-z0-9+/]+=*$' "$token" "the token curl made"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth negotiate keytab $T/proxy.keytab
allow all
EOF

get="GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n"
raw send "$get\r\n" expect '^HTTP/1\.1 407 ' expect 'required\.\n' \
	send "${get}Proxy-Authorization: $token\r\n\r\n" expect '^HTTP/1\.1 200 ' expect 'hello from the origin\n' \
	send "$get\r\n" expect '^HTTP/1\.1 200 ' expect 'hello from the origin\n' \
	send "$get\r\n" expect '^HTTP/1\.1 200 ' expect 'hello from the origin\n'
# A new connection starts unauthenticated.
raw send "$get\r\n" expect '^HTTP/1\.1 407 '

logged_as_alice() {
	[ "$(grep -c ' TCP_MISS/200 .* alice@TEST\.PINHOLE ' "$T/access.log")" = "$1" ]
}
eventually 5 logged_as_alice 3 ||
	fail "expected 3 requests logged as alice@TEST.PINHOLE: $(cat "$T/access.log")"
expect_eq 2 "$(grep -c ' TCP_DENIED/407 ' "$T/access.log")" "407s in the access log"
pinhole_stop
