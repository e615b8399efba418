#!/bin/sh
# POST /reload reloads the config as SIGHUP does: 202 "reload requested",
# then a deny rule added to the file applies to the next request.  GET
# /reload is refused with 405 and `Allow: POST`.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF
wait_admin
expect_status 200 "http://www.origin.test:$WEB/hello"

expect_admin 405 /reload
expect_match '^Allow: POST$' "$HEADERS" "headers of GET /reload"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
deny domain www.origin.test
allow all
EOF
expect_admin 202 /reload -X POST
expect_eq "reload requested" "$BODY" "body of POST /reload"

reloaded() {
	admin_get /config
	grep -q '^deny domain www\.origin\.test ' <<<"$BODY"
}
eventually 5 reloaded || fail "the new deny rule is not in /config 5 s after POST /reload:
$BODY"
expect_status 403 "http://www.origin.test:$WEB/hello"
expect_match 'pinhole\.conf:5' "$BODY" "403 body naming the new rule"
pinhole_stop
