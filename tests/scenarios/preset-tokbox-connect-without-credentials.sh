#!/bin/sh
# With `auth basic` on, `preset tokbox` then `deny all`, a CONNECT to a TokBox
# host on 443 goes through without credentials [TOKBOX], an InEvent page on
# the same origin still asks for them (407), and a host no preset names is
# denied by the deny rule's FILE:LINE even with credentials.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

# The preset allows port 443 only, so the origin listens on 443, on a loopback
# address of its own so that parallel runs do not meet.
ADDR=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
"$PY" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 443))' "$ADDR" 2>/dev/null ||
	skip "cannot bind $ADDR:443 (needs root or CAP_NET_BIND_SERVICE)"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
make_leaf api.opentok.com www.inevent.com www.origin.test
start_origin TLS http --cert "$T/leaf.pem" --key "$T/leaf.key" --bind "$ADDR" --port 443
hosts_entry "$ADDR" api.opentok.com www.inevent.com www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
preset tokbox
deny all
EOF

expect_status 200 --cacert "$T/ca.pem" "https://api.opentok.com/hello"
expect_eq "hello from the origin" "$BODY" "body through the tunnel"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT api\.opentok\.com:443 - HIER_DIRECT/"

expect_status 407 --cacert "$T/ca.pem" "https://www.inevent.com/hello"
expect_status 200 --cacert "$T/ca.pem" --proxy-user alice:secret "https://www.inevent.com/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inevent\.com:443 alice HIER_DIRECT/"

# alice:secret in Basic form.
raw send "CONNECT www.origin.test:443 HTTP/1.1\r\nHost: www.origin.test:443\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n" \
	expect '^HTTP/1\.1 403 .*pinhole\.conf:6' eof
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT www\.origin\.test:443 alice "
pinhole_stop
