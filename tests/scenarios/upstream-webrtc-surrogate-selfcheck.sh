#!/bin/sh
# Through a parent proxy, what pinhole decides itself stays its own: a
# WebRTC media tunnel (a CONNECT to a declared turn-server, or naming
# webrtc in an ALPN header) that auth-surrogate lets through without
# credentials goes through the parent as the user who authenticated from
# that address, and an upstream-proxy line can pick it with the webrtc
# matcher while pages go direct; the self-check page is answered by
# pinhole and never reaches the parent, even when every request goes
# through one.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_origin TURN http
hosts_entry 127.0.0.1 www.origin.test turn.office.test media.vendor.test pinhole.check
P=$(free_port)
parent_pinhole_start P <<EOF
listen 127.0.0.1:$P
access-log $T/parent-access.log squid
hosts-file $T/hosts
allow all
EOF
config() {
	cat <<EOC
listen 127.0.0.1:$PH_PORT
access-log $T/access.json json
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
turn-server turn.office.test:$TURN
auth-surrogate 1h
$1
allow all
EOC
}
config "upstream-proxy http://127.0.0.1:$P webrtc" >"$T/first.conf"
pinhole_start <"$T/first.conf"

# alice's page goes direct: the line matches media only.
expect_status 200 -U alice:secret "http://www.origin.test:$WEB/hello"
log_line_matching "\"url\":\"http://www\.origin\.test:$WEB/hello\",\"user\":\"alice\",\"hierarchy\":\"HIER_DIRECT\",\"peer\":\"127\.0\.0\.1\",\"parent\":null," \
	"$T/access.json"
no_log_line_matching "www\.origin\.test" "$T/parent-access.log"

# Her browser's TURN CONNECT, without credentials: alice by auth-surrogate,
# through the parent.
expect_status 200 -p "http://turn.office.test:$TURN/hello"
expect_eq "hello from the origin" "$BODY" "body through the media tunnel through the parent"
origin_saw TURN "GET /hello"
log_line_matching "\"result\":\"TCP_TUNNEL\",\"status\":200,.*\"url\":\"turn\.office\.test:$TURN\",\"user\":\"alice\",\"hierarchy\":\"FIRSTUP_PARENT\",\"peer\":\"127\.0\.0\.1\",\"parent\":\"127\.0\.0\.1:$P\",\"mime\":\"webrtc-http\",.*\"auth\":\"surrogate\",\"webrtc\":true," \
	"$T/access.json"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.office\.test:$TURN - HIER_DIRECT/" "$T/parent-access.log"
# Firefox's media tunnel names itself (RFC 7639): through the parent too.
expect_status 200 -p --proxy-header "ALPN: webrtc" "http://media.vendor.test:$WEB/hello"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT media\.vendor\.test:$WEB - HIER_DIRECT/" "$T/parent-access.log"
log_line_matching "\"url\":\"media\.vendor\.test:$WEB\",\"user\":\"alice\",\"hierarchy\":\"FIRSTUP_PARENT\",.*\"auth\":\"surrogate\",\"webrtc\":true," \
	"$T/access.json"
# Any other tunnel still needs credentials, and the parent never sees it.
expect_status 407 -p "http://www.origin.test:$WEB/hello"
no_log_line_matching "CONNECT www\.origin\.test" "$T/parent-access.log"

# Every request through the parent: the self-check page is still pinhole's
# own, as a request and inside a CONNECT to it.
config "upstream-proxy http://127.0.0.1:$P" >"$T/pinhole.conf"
pinhole_reload
expect_status 200 -U alice:secret "http://pinhole.check/"
expect_match 'you are <b>alice</b>, by Basic' "$BODY" "the self-check page, answered by pinhole"
log_line_matching "\"url\":\"http://pinhole\.check/\",\"user\":\"alice\",\"hierarchy\":\"HIER_NONE\",\"peer\":null,\"parent\":null," \
	"$T/access.json"
expect_status 200 -p -U alice:secret "http://pinhole.check/"
expect_match 'you are <b>alice</b>, by Basic' "$BODY" "the self-check page inside a CONNECT to it"
expect_status 200 -U alice:secret "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_DIRECT/" "$T/parent-access.log"
no_log_line_matching "pinhole\.check" "$T/parent-access.log"
pinhole_stop
