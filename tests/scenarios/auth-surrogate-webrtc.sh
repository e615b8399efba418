#!/bin/sh
# auth-surrogate: after alice authenticated from 127.0.0.1, that address's
# WebRTC media tunnels (CONNECT to a declared turn-server, or naming webrtc
# in an ALPN header) pass as alice without a 407, as Chromium's TURN
# CONNECT needs; everything else still needs credentials.  Refused
# credentials from the address end it; a reload keeps the table; the
# duration counts from the last successful authentication.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_origin TURN http
hosts_entry 127.0.0.1 www.origin.test turn.office.test media.vendor.test
config() {
	cat <<EOC
listen 127.0.0.1:$PH_PORT
access-log $T/access.json json
hosts-file $T/hosts
admin 127.0.0.1:$ADMIN_PORT
auth basic htpasswd $T/users.htpasswd
turn-server turn.office.test:$TURN
auth-surrogate $1
allow all
EOC
}
ADMIN_PORT=$(free_port)
config 1h >"$T/first.conf"
pinhole_start <"$T/first.conf"

turn="http://turn.office.test:$TURN/hello"
# Nobody authenticated from this address yet: media gets the 407.
expect_status 407 -p "$turn"
# alice browses through the proxy.
expect_status 200 -U alice:secret "http://www.origin.test:$WEB/hello"
# Her browser's TURN CONNECT carries no credentials: it passes as alice.
expect_status 200 -p "$turn"
origin_saw TURN "GET /hello"
log_line_matching "\"result\":\"TCP_TUNNEL\",\"status\":200,.*\"url\":\"turn\.office\.test:$TURN\",\"user\":\"alice\".*\"mime\":\"webrtc-http\".*\"auth\":\"surrogate\",\"webrtc\":true" \
	"$T/access.json"
# Firefox names its media tunnels (RFC 7639): any destination.
expect_status 200 -p --proxy-header "ALPN: webrtc, c-webrtc" "http://media.vendor.test:$WEB/hello"
expect_status 200 -p --proxy-header "ALPN: c%2Dwebrtc" "http://media.vendor.test:$WEB/hello"
# The rest still needs credentials: a tunnel elsewhere, a page, another ALPN.
expect_status 407 -p "http://media.vendor.test:$WEB/hello"
expect_status 407 "http://www.origin.test:$WEB/hello"
expect_status 407 -p --proxy-header "ALPN: h2" "http://media.vendor.test:$WEB/hello"
# Another address is not alice.
expect_status 407 -p --interface 127.0.0.2 "$turn"
metrics=$(curl -sS --max-time 5 "http://127.0.0.1:$ADMIN_PORT/metrics")
expect_match "pinhole_auth_surrogate_total 3" "$metrics" "surrogate acceptances counted"
expect_match "pinhole_auth_surrogate_addresses 1" "$metrics" "one address remembered"
expect_match "auth-surrogate 1h webrtc" \
	"$(curl -sS --max-time 5 "http://127.0.0.1:$ADMIN_PORT/config")" "/config shows the directive with its matchers"

# Refused credentials from the address: whoever sits there now is not alice.
expect_status 407 -U alice:wrong "http://www.origin.test:$WEB/hello"
expect_status 407 -p "$turn"

# A reload keeps who authenticated where.
expect_status 200 -U alice:secret "http://www.origin.test:$WEB/hello"
pinhole_reload
expect_status 200 -p "$turn"

# The duration counts from the last successful authentication.
config 2s >"$T/pinhole.conf"
pinhole_reload
expect_status 200 -U alice:secret "http://www.origin.test:$WEB/hello"
expect_status 200 -p "$turn"
sleep 2.5
expect_status 407 -p "$turn"
pinhole_stop
