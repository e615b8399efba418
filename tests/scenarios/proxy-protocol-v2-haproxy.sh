#!/bin/sh
# Behind HAProxy with `send-proxy-v2`, requests are served and the access
# log shows the client address HAProxy saw.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

command -v haproxy >/dev/null || skip "needs haproxy (apt-get install haproxy)"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

HAP=$(free_port)
cat >"$T/haproxy.cfg" <<EOF
global
	maxconn 100
defaults
	mode tcp
	timeout connect 5s
	timeout client 30s
	timeout server 30s
listen front
	bind 127.0.0.1:$HAP
	server pinhole 127.0.0.1:$PH_PORT send-proxy-v2
EOF
spawn haproxy haproxy -db -f "$T/haproxy.cfg"
eventually 10 port_listening "$HAP" || fail "haproxy does not listen on $HAP: $(cat "$T/haproxy.err")"

curl -q -sS --max-time 15 -x "http://127.0.0.1:$HAP" -o "$T/hap.body" -w '%{http_code}' \
	"http://www.origin.test:$WEB/hello" >"$T/hap.code"
expect_eq 200 "$(cat "$T/hap.code")" "status through haproxy and pinhole"
expect_eq "hello from the origin" "$(cat "$T/hap.body")" "body through haproxy and pinhole"
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
pinhole_stop
