#!/bin/sh
# Chromium and Firefox ESR with pinhole as their proxy and no
# authentication load an http:// page (forwarded: the access log has the
# GET) and an https:// page (a CONNECT tunnel to an origin whose CA the
# browser trusts: the page's certificate is the origin's own).
. "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
. "$PH_SRCDIR/tests/browser/lib.sh"

start_origin WEB http
start_tls_origin TLS www.secure.test
hosts_entry 127.0.0.1 www.origin.test www.secure.test
for B in $(browsers); do
	browser_run
	pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $ACCESS_LOG squid
hosts-file $T/hosts
allow domain www.origin.test www.secure.test
EOF
	browser_profile "$B" "$T/ca.pem"
	drive "$B" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" \
		"page=http://www.origin.test:$WEB/hello" "page=https://www.secure.test:$TLS/hello"
	record 0 what=page scheme=none inspection=off url=http
	record 1 what=page scheme=none inspection=off url=https
	expect_step_ok 0 "the http:// page"
	expect_eq "hello from the origin" "$(dv steps.0.text | tr -d '\n')" "the http:// page's text in $B"
	expect_step_ok 1 "the https:// page"
	expect_eq "hello from the origin" "$(dv steps.1.text | tr -d '\n')" "the https:// page's text in $B"
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS - HIER_DIRECT/127\.0\.0\.1 tls$"
	pinhole_stop
done
