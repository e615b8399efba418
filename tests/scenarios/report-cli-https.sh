#!/bin/sh
# `pinhole report --admin https://...` reaches an admin interface behind a
# TLS-terminating proxy (HAProxy, with a certificate from a private CA):
# with --cacert naming that CA the report prints; without it the certificate
# is not trusted and the message says to give --cacert.  The admin's Basic
# credentials go over TLS, proxy variables of the environment are not used,
# and an admin interface on IPv6 ([::1]) answers plain http:// too.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

command -v haproxy >/dev/null || skip "needs haproxy (apt-get install haproxy)"

# On IPv6 loopback when there is one: HAProxy forwards to it, and the
# command asks it straight too.
ADMIN_HOST=127.0.0.1
ipv6_available && ADMIN_HOST=::1
ADMIN_SRV=$ADMIN_HOST
[ "$ADMIN_HOST" = ::1 ] && ADMIN_SRV='[::1]'
TLS=$(free_port)
DEAD=$(free_port) # nothing listens here

printf 'Adm1n-Secret-42\n' | "$PINHOLE" passwd --basic root >"$T/admin.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin $ADMIN_SRV:$ADMIN
admin-auth htpasswd $T/admin.htpasswd
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
eventually 5 port_listening "$ADMIN" || fail "the admin interface does not listen on $ADMIN_SRV:$ADMIN"
expect_status 200 -A "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" \
	"http://www.origin.test:$WEB/hello"

make_leaf localhost
cat "$T/leaf.pem" "$T/leaf.key" >"$T/haproxy.pem"
cat >"$T/haproxy.cfg" <<EOF
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
frontend admin_tls
	bind 127.0.0.1:$TLS ssl crt $T/haproxy.pem
	default_backend pinhole_admin
backend pinhole_admin
	server admin $ADMIN_SRV:$ADMIN
EOF
spawn haproxy haproxy -db -f "$T/haproxy.cfg"
eventually 10 port_listening "$TLS" || fail "HAProxy does not listen on $TLS: $(cat "$T/haproxy.err")"

# Through TLS, trusting the private CA; credentials from the environment;
# a proxy variable pointing nowhere is not used.
http_proxy=http://127.0.0.1:$DEAD https_proxy=http://127.0.0.1:$DEAD ALL_PROXY=http://127.0.0.1:$DEAD \
	PINHOLE_ADMIN_USER=root PINHOLE_ADMIN_PASSWORD=Adm1n-Secret-42 \
	run_pinhole report --cacert "$T/ca.pem" --admin "https://localhost:$TLS"
expect_eq 0 "$RC" "exit status over https (stderr: $ERR)"
expect_eq "" "$ERR" "stderr over https"
expect_match '^CLIENT +USER +BROWSER/OS +VERDICT +REQUESTS +LAST SEEN$' "$OUT" "table header over https"
expect_match '^127\.0\.0\.1  -     Firefox 128/Linux  ok +1  ' "$OUT" "the client pinhole saw, over https"
expect_match '^1 client: 0 breaks, 0 degraded, 1 ok$' "$OUT" "summary over https"

# --json names the instance with its scheme.
run_pinhole report --json --cacert "$T/ca.pem" --admin "https://root:Adm1n-Secret-42@localhost:$TLS/"
expect_eq 0 "$RC" "exit status of --json over https (stderr: $ERR)"
expect_eq "https://localhost:$TLS 1" \
	"$("$PY" -c 'import json, sys; r = json.load(sys.stdin); print(r["instances"][0]["instance"], len(r["clients"]))' \
		<<<"$OUT")" "the instance's name and its client in --json"
expect_no_match 'Adm1n' "$OUT$ERR" "the admin password"

# The system's CAs do not know the private one.
run_pinhole report --admin "https://root:Adm1n-Secret-42@localhost:$TLS"
expect_eq 2 "$RC" "exit status without --cacert"
expect_match "^pinhole report: https://localhost:$TLS: its certificate is not trusted \(.+\): give the CA that signed it with --cacert FILE$" \
	"$ERR" "untrusted certificate"
expect_no_match 'Adm1n' "$ERR" "the admin password"

# TLS does not stand in for admin-auth: a wrong password is still refused.
run_pinhole report --cacert "$T/ca.pem" --admin "https://root:wrong@localhost:$TLS"
expect_eq 2 "$RC" "exit status with a wrong password over https"
expect_match "^pinhole report: https://localhost:$TLS: HTTP 401 \(admin-auth: the user name or password is wrong\)$" \
	"$ERR" "wrong password over https"

# Straight to the admin interface, on IPv6 when there is one.
run_pinhole report --admin "http://root:Adm1n-Secret-42@$ADMIN_SRV:$ADMIN"
expect_eq 0 "$RC" "exit status over plain http to $ADMIN_SRV (stderr: $ERR)"
expect_match '^1 client: 0 breaks, 0 degraded, 1 ok$' "$OUT" "summary over plain http to $ADMIN_SRV"
[ "$ADMIN_HOST" = ::1 ] || note "no IPv6 loopback: the admin interface was asked on 127.0.0.1"
