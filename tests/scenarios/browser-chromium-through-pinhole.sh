#!/bin/sh
# Headless Chromium configured with pinhole as its proxy loads a plain
# http:// page (forwarded) and an https:// page (a CONNECT tunnel to the
# TLS origin, whose test CA the browser does not know: it is told to go on).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "chromium is not installed (apt-get install chromium)"

start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow domain www.origin.test www.secure.test
EOF

# Prints the page as the browser rendered it.
chromium_dump() {
	timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$T/chromium-profile" \
		--proxy-server="http://127.0.0.1:$PH_PORT" --proxy-bypass-list='<-loopback>' \
		--ignore-certificate-errors --dump-dom "$1" 2>>"$T/chromium.err"
}

page=$(chromium_dump "http://www.origin.test:$WEB/hello")
expect_match 'hello from the origin' "$page" "the http:// page in Chromium"
page=$(chromium_dump "https://www.secure.test:$TLS/hello")
expect_match 'hello from the origin' "$page" "the https:// page in Chromium"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS "
pinhole_stop
