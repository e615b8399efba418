#!/bin/sh
# A parent that demands Digest (a second pinhole with `auth digest file`),
# the credentials in the parent's URL (http://bob:s%40cret@host:port, the
# password percent-encoded): pinhole answers the 407 with Digest, and once
# that worked it sends Digest at once with the next requests, from any
# client connection, with a nonce count of their own: no more 407s.  The
# password shows nowhere in /config; the JSON access log names the parent.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"
. "$PH_LIB/admin.sh"

printf 's@cret\n' | "$PINHOLE" passwd --digest bob --realm parent >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test parent.pinhole.test
PARENT=$(free_port)
parent_pinhole_start PARENT <<EOF
listen 127.0.0.1:$PARENT
access-log $T/parent-access.log squid
hosts-file $T/hosts
auth-realm "parent"
auth digest file $T/users.digest
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.json json
hosts-file $T/hosts
upstream-proxy http://bob:s%40cret@parent.pinhole.test:$PARENT
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through the parent"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - " "$T/parent-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello bob HIER_DIRECT/" "$T/parent-access.log"
eventually 5 test -s "$T/access.json" || fail "no line in the JSON access log"
"$PY" - "$T/access.json" "$PARENT" <<'PYEOF' || fail "JSON access log: $(cat "$T/access.json")"
import json, sys
e = json.loads(open(sys.argv[1]).readline())
want = {"hierarchy": "FIRSTUP_PARENT", "peer": "parent.pinhole.test",
        "parent": "parent.pinhole.test:" + sys.argv[2], "status": 200, "user": None}
bad = {k: e.get(k) for k in want if e.get(k) != want[k]}
if bad:
    sys.exit("unexpected fields: %r" % bad)
PYEOF

# From now on Digest goes with the request: three more requests on new
# client connections (and both workers), one CONNECT, no 407 for any.
for i in 1 2 3; do
	expect_status 200 "http://www.origin.test:$WEB/hello?$i"
done
expect_status 200 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS bob HIER_DIRECT/" "$T/parent-access.log"
expect_eq 1 "$(grep -c 'TCP_DENIED/407' "$T/parent-access.log")" "407s the parent sent in all"

wait_admin
expect_admin 200 /config
expect_match "^upstream-proxy http://bob@parent\.pinhole\.test:$PARENT " "$BODY" "/config"
expect_no_match 'cret' "$BODY" "/config"
pinhole_stop
