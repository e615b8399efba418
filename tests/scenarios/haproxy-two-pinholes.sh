#!/bin/sh
# Two pinholes behind Debian's HAProxy, configured by contrib/haproxy/
# haproxy.cfg itself (its addresses replaced by loopback ones): clients see
# one proxy, and
# - each instance sees the real client address (send-proxy-v2): in its
#   access log, in `src` rules, in the WebRTC report that `pinhole report
#   --admin A --admin B` merges; a PROXY header from anyone but HAProxy is
#   refused (`proxy-protocol from`);
# - a Digest nonce one instance gave is good on the other (shared
#   `auth digest nonce-secret`), NTLM handshakes stay on one instance (TCP
#   mode keeps a connection on one server), both instances serving;
# - a rolling reload (`pinhole reload` on one instance, then the other)
#   under load drops no request and no tunnel;
# - a draining instance answers /healthz 503, HAProxy stops sending it new
#   connections, its open tunnel runs to the end, and no request fails.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

command -v haproxy >/dev/null || skip "needs haproxy (apt-get install haproxy)"
curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
[ -f "$PH_SRCDIR/contrib/haproxy/haproxy.cfg" ] || fail "no contrib/haproxy/haproxy.cfg"

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" || fail "pinhole passwd --digest failed"
printf 'Secret2\n' | "$PINHOLE" passwd --ntlm bob >"$T/users.ntlm" || fail "pinhole passwd --ntlm failed"
head -c 48 /dev/urandom | base64 -w0 >"$T/nonce.secret"
start_origin WEB http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test echo.origin.test blocked.origin.test
HAP=$(free_port)
B=$(free_port)
ADMIN_A=$(free_port)
ADMIN_B=$(free_port)
HAPROXY_SRC=127.0.0.9

# conf PORT ADMIN NAME: one instance's pinhole.conf (contrib/haproxy/
# pinhole-instance.conf with loopback addresses).
conf() {
	cat <<EOF
listen 127.0.0.1:$1 proxy-protocol from $HAPROXY_SRC
admin 127.0.0.1:$2
pid-file $T/$3.pid
access-log $T/$3-access.log squid
hosts-file $T/hosts
timeout drain 20s
auth digest file $T/users.digest
auth digest nonce-secret $T/nonce.secret
auth ntlm users $T/users.ntlm
deny src 127.0.0.3
allow all
EOF
}
pinhole_start < <(conf "$PH_PORT" "$ADMIN_A" a)
PH_A=$PH_PID
conf "$B" "$ADMIN_B" b >"$T/b.conf"
spawn pinhole-b "$PINHOLE" run -c "$T/b.conf"
PH_B=$SPAWNED_PID
eventually 10 port_listening "$B" || fail "the second pinhole does not listen on $B: $(cat "$T/pinhole-b.err")"

sed -e "s/^\(\tbind \)192\.0\.2\.10:3128/\1127.0.0.1:$HAP/" \
	-e "s/^\(\tsource \)192\.0\.2\.10/\1$HAPROXY_SRC/" \
	-e "s/192\.0\.2\.11:3128\(.*\)check port 3129/127.0.0.1:$PH_PORT\1check port $ADMIN_A/" \
	-e "s/192\.0\.2\.12:3128\(.*\)check port 3129/127.0.0.1:$B\1check port $ADMIN_B/" \
	-e "s|/run/haproxy/admin\.sock|$T/haproxy.sock|" \
	-e '/^\tlog \/dev\/log/d' -e '/^\tlog global/d' -e '/^\toption tcplog/d' \
	-e 's/^\tmaxconn .*/\tmaxconn 1000/' \
	"$PH_SRCDIR/contrib/haproxy/haproxy.cfg" >"$T/haproxy.cfg"
grep -q "127.0.0.1:$PH_PORT send-proxy-v2 check port $ADMIN_A" "$T/haproxy.cfg" &&
	grep -q "127.0.0.1:$B send-proxy-v2 check port $ADMIN_B" "$T/haproxy.cfg" &&
	grep -q "bind 127.0.0.1:$HAP" "$T/haproxy.cfg" ||
	fail "contrib/haproxy/haproxy.cfg no longer has the lines this scenario adapts:
$(cat "$T/haproxy.cfg")"
spawn haproxy haproxy -db -f "$T/haproxy.cfg"

# haproxy_cmd CMD: HAProxy's runtime API.
haproxy_cmd() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())' "$T/haproxy.sock" "$1"
}
# up NAME: HAProxy's check says the server is up (operational state 2).
up() {
	haproxy_cmd "show servers state pinholes" 2>/dev/null | awk -v n="$1" '$4 == n && $6 == 2 { f = 1 } END { exit !f }'
}
eventually 10 up pinhole1 && eventually 10 up pinhole2 ||
	fail "HAProxy does not see both pinholes up:
$(haproxy_cmd "show servers state pinholes" 2>&1)
$(cat "$T/haproxy.err")"
HPROXY=http://127.0.0.1:$HAP
hcurl() {
	curl -q -sS --max-time 15 -x "$HPROXY" "$@"
}
logs() {
	cat "$T/a-access.log" "$T/b-access.log" 2>/dev/null
}

# ---- client addresses: logs, rules, report
for src in 127.0.0.2 127.0.0.4 127.0.0.5 127.0.0.6; do
	code=$(hcurl --interface $src --proxy-digest -U alice:secret -o /dev/null -w '%{http_code}' \
		"http://www.origin.test:$WEB/hello?from-$src")
	expect_eq 200 "$code" "status for a client on $src"
	eventually 5 grep -qE "^[0-9.]+ +[0-9]+ ${src//./\\.} TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?from-$src alice " \
		"$T/a-access.log" "$T/b-access.log" || fail "no access-log line with the client address $src:
$(logs)"
done
grep -q ' TCP_MISS/200 .* alice ' "$T/a-access.log" && grep -q ' TCP_MISS/200 .* alice ' "$T/b-access.log" ||
	fail "HAProxy did not use both instances:
$(logs)"
no_log_line_matching "^[0-9.]+ +[0-9]+ 127\.0\.0\.(1|9) TCP_MISS" "$T/a-access.log"
no_log_line_matching "^[0-9.]+ +[0-9]+ 127\.0\.0\.(1|9) TCP_MISS" "$T/b-access.log"

hcurl --interface 127.0.0.3 --proxy-digest -U alice:secret -o "$T/denied.body" -w '%{http_code}' \
	"http://www.origin.test:$WEB/hello" >"$T/denied.code"
expect_eq 403 "$(cat "$T/denied.code")" "status for the client on 127.0.0.3 (deny src)"
expect_match "pinhole\.conf:10|b\.conf:10" "$(cat "$T/denied.body")" "the 403 names the rule"

# A PROXY header straight from a client (not from HAProxy's address):
# refused, and its claimed address never shows up.
raw send "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\nGET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" eof print
expect_match '^HTTP/1\.1 400 ' "$RAW_OUT" "a PROXY header from a client"
no_log_line_matching '203\.0\.113\.9' "$T/a-access.log"

"$PINHOLE" report --admin "http://127.0.0.1:$ADMIN_A" --admin "http://127.0.0.1:$ADMIN_B" --json \
	>"$T/report.json" 2>"$T/report.err"
"$PY" - "$T/report.json" <<'EOF' || fail "pinhole report over both instances: $(cat "$T/report.json" "$T/report.err")"
import json, sys
r = json.load(open(sys.argv[1]))
clients = {c["client"] for c in r["clients"]}
want = {"127.0.0.2", "127.0.0.4", "127.0.0.5", "127.0.0.6"}
assert want <= clients, clients
assert not clients & {"127.0.0.9"}, clients
assert len(r["instances"]) == 2, r["instances"]
EOF

# ---- Digest: a nonce from one instance, the answer on the next connection
digest() {
	"$PY" "$PH_LIB/digest_client.py" "$@"
}
url=http://www.origin.test:$WEB/hello
for i in 1 2 3 4 5 6; do
	read -r nonce opaque <<<"$(digest challenge "$HAP" "$url?digest-$i")"
	expect_match '^200 - ' "$(digest answer "$HAP" "$url?digest-$i" "$nonce" "$opaque" 00000001)" \
		"the answer to challenge $i, on a new connection through HAProxy"
done
# Each challenge's answer went to the other instance.
for i in 1 2 3 4 5 6; do
	c=$(grep -l "TCP_DENIED/407 .*hello?digest-$i " "$T/a-access.log" "$T/b-access.log")
	a=$(grep -l "TCP_MISS/200 .*hello?digest-$i " "$T/a-access.log" "$T/b-access.log")
	[ -n "$c" ] && [ -n "$a" ] || fail "challenge $i: no 407 or no 200 logged"
	[ "$c" != "$a" ] && crossed=1
done
[ -n "${crossed:-}" ] || fail "no Digest answer reached the other instance than its challenge"

# ---- NTLM: each handshake on one connection, so on one instance
for i in 1 2 3 4 5 6; do
	code=$(hcurl --proxy-ntlm -U bob:Secret2 -o /dev/null -w '%{http_code}' "$url?ntlm-$i")
	expect_eq 200 "$code" "NTLM request $i through HAProxy"
done
for f in a b; do
	grep -q "TCP_MISS/200 .*hello?ntlm-[0-9] bob " "$T/$f-access.log" ||
		fail "instance $f served no NTLM request:
$(cat "$T/$f-access.log")"
done

# ---- rolling reload under load
# load_tunnel N [FILE]: a CONNECT through HAProxy (Digest credentials for
# a fresh nonce) that echoes once, waits for $T/FILE (default reloaded),
# and echoes again.
load_tunnel() {
	RAWCLIENT_TIMEOUT=60 spawn "tunnel$1" "$PY" "$PH_LIB/rawclient.py" 127.0.0.1 "$HAP" \
		send "$(digest_connect "$1")" expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
		send "before-$1" expect "^before-$1\$" \
		touch "$T/tunnel$1.open" wait-file "$T/${2:-reloaded}" \
		send "after-$1" expect "^after-$1\$" shut eof
	TUNNELS="$TUNNELS $SPAWNED_PID"
}
# digest_connect N: a CONNECT with Digest credentials for a fresh nonce.
digest_connect() {
	"$PY" - "$HAP" "echo.origin.test:$ECHO" <<'EOF'
import hashlib, re, socket, sys
port, target = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)).encode())
data = b""
while b"\r\n\r\n" not in data:
    data += s.recv(4096)
s.close()
top = data.decode(errors="replace")
ch = [l for l in top.split("\r\n") if l.startswith("Proxy-Authenticate: Digest") and "algorithm=MD5" in l][0]
nonce = re.search(r'nonce="([^"]+)"', ch).group(1)
opaque = re.search(r'opaque="([^"]+)"', ch).group(1)
md5 = lambda x: hashlib.md5(x.encode()).hexdigest()
resp = md5("%s:%s:00000001:0a4f113b:auth:%s" % (md5("alice:pinhole:secret"), nonce, md5("CONNECT:" + target)))
sys.stdout.write('CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\nProxy-Authorization: Digest username="alice", realm="pinhole", '
                 'nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b", response="%s", '
                 'opaque="%s"\\r\\n\\r\\n' % (target, target, nonce, target, resp, opaque))
EOF
}
TUNNELS=
for i in 1 2 3 4; do
	load_tunnel "$i"
done
for i in 1 2 3 4; do
	wait_file "$T/tunnel$i.open" 15
done
# Requests all along the reloads, bounded in count and time.
(
	for i in $(seq 1 40); do
		c=$(curl -q -s --max-time 10 -x "$HPROXY" --proxy-digest -U alice:secret -o /dev/null -w '%{http_code}' \
			"http://www.origin.test:$WEB/hello?load-$i")
		echo "$i $c"
		sleep 0.05
	done >"$T/load.out"
) &
LOADER=$!
PH_PIDS+=("$LOADER")
sleep 0.5
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 0 "$RC" "pinhole reload of the first instance under load (stderr: $ERR)"
sed -i 's/^deny src 127\.0\.0\.3$/deny src 127.0.0.3\ndeny domain blocked.origin.test/' "$T/pinhole.conf" "$T/b.conf"
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 0 "$RC" "second pinhole reload of the first instance (stderr: $ERR)"
sleep 0.5
run_pinhole reload -c "$T/b.conf"
expect_eq 0 "$RC" "pinhole reload of the second instance under load (stderr: $ERR)"
wait_pid "$LOADER" 60
touch "$T/reloaded"
for p in $TUNNELS; do
	wait_pid "$p" 30
	[ "$WAIT_RC" = 0 ] || { cat "$T"/tunnel*.err >&2; fail "a tunnel open across the rolling reload broke (see above)"; }
done
expect_eq 40 "$(grep -c ' 200$' "$T/load.out")" "requests answered 200 during the rolling reload ($(grep -v ' 200$' "$T/load.out" | tr '\n' ' '))"
for i in 1 2; do
	code=$(hcurl --proxy-digest -U alice:secret -o /dev/null -w '%{http_code}' "http://blocked.origin.test:$WEB/hello")
	expect_eq 403 "$code" "the new rule on both instances (request $i)"
done

# ---- draining: one instance stops, the other takes every new connection
load_tunnel 9 drained
wait_file "$T/tunnel9.open" 15
drained=
for pair in "a:$ADMIN_A:$PH_A" "b:$ADMIN_B:$PH_B"; do
	IFS=: read -r name port pid <<<"$pair"
	n=$(curl -s --max-time 5 "http://127.0.0.1:$port/stats.json" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["tunnels_active"])')
	if [ "$n" = 1 ]; then
		drained=$name
		kill -TERM "$pid"
		eventually 5 test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 503 ||
			fail "instance $name does not answer /healthz with 503 while it drains"
		break
	fi
done
[ -n "$drained" ] || fail "no instance holds the tunnel"
server=pinhole1
[ "$drained" = b ] && server=pinhole2
eventually 10 sh -c "! { $(declare -f haproxy_cmd up); PY=$PY T=$T up $server; }" ||
	fail "HAProxy still sees $server up while it drains"
for i in $(seq 1 10); do
	code=$(hcurl --proxy-digest -U alice:secret -o /dev/null -w '%{http_code}' "$url?during-drain-$i")
	expect_eq 200 "$code" "request $i while instance $drained drains"
done
touch "$T/drained"
wait_pid "$SPAWNED_PID" 30
[ "$WAIT_RC" = 0 ] || { cat "$T/tunnel9.err" >&2; fail "the tunnel of the draining instance broke (see above)"; }
if [ "$drained" = a ]; then
	wait_gone "$PH_A" 20 || fail "instance a still runs after its last tunnel closed"
	reap "$PH_A"
	expect_eq 0 "$WAIT_RC" "exit status of the drained instance"
	PH_PID=$PH_B
else
	wait_gone "$PH_B" 20 || fail "instance b still runs after its last tunnel closed"
	reap "$PH_B"
	expect_eq 0 "$WAIT_RC" "exit status of the drained instance"
fi
pinhole_stop
