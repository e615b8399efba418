#!/bin/sh
# NTLM with a bare user name, then a call: the user typed "alice" (the users
# file says EXAMPLE\alice); the page loads through pinhole as EXAMPLE\alice,
# and the call in that page connects over TURN/TCP through pinhole, its TURN
# CONNECT authenticated by NTLM too.
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain EXAMPLE >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
start_coturn TURN turnuser turnpass
hosts_entry 127.0.0.1 www.origin.test turn.pinhole.test
for B in $(browsers); do
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $ACCESS_LOG squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
turn-server turn.pinhole.test:$TURN
allow all
EOF
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --proxy-user alice --proxy-password secret \
		"page=http://www.origin.test:$WEB/hello" "$(webrtc_step turn.pinhole.test "$TURN" turnuser turnpass)"
	record 1 what=webrtc scheme=ntlm inspection=off credentials="bare user"
	expect_step_ok 0 "the page with NTLM as alice"
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello EXAMPLE\\\\alice "
	expect_relay_tcp 1
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT turn\.pinhole\.test:$TURN EXAMPLE\\\\alice HIER_DIRECT/127\.0\.0\.1 webrtc-stun$"
	pinhole_stop
done
