#!/bin/sh
# Firefox behind Basic authentication with `noauth webrtc`: Firefox names
# its TURN connections with an RFC 7639 `ALPN: webrtc` header, so they pass
# without a 407 (no turn-server line: the header alone decides), the call
# connects over TURN/TCP through pinhole, and the page itself still needed
# the user's credentials.  The log's type column says webrtc-stun.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_coturn TURN turnuser turnpass
hosts_entry 127.0.0.1 www.origin.test turn.pinhole.test
for B in $(browsers); do
	[ "$B" = firefox ] || continue
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $ACCESS_LOG squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
noauth webrtc
allow all
EOF
	wait_admin
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret \
		"page=http://www.origin.test:$WEB/hello" "$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	record 1 what=webrtc scheme=basic inspection=off credentials=noauth-webrtc
	expect_step_ok 0 "the page with Basic credentials"
	log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
	expect_relay_tcp 1
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN - HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
	no_log_line_matching " TCP_DENIED/407 [0-9]+ CONNECT turn\.pinhole\.test:$TURN "
	pinhole_stop
done
