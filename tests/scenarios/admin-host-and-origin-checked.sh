#!/bin/sh
# The admin interface answers only to Host values that name it (an address,
# localhost, or an `admin-host` name), so a DNS-rebinding page cannot read
# /config or /report.json; a POST /reload from a page of another origin
# (Origin of another host or port, Sec-Fetch-Site: cross-site) gets 403,
# while curl and scripts, which send neither, keep working.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
admin-host proxy.office.test
access-log $T/access.log squid
allow all
EOF
wait_admin

for path in /config /report.json /metrics /; do
	expect_admin 403 "$path" -H "Host: evil.example"
	expect_match 'admin-host' "$BODY" "403 body for $path with a foreign Host"
	expect_admin 403 "$path" -H "Host: evil.example:$ADMIN"
done
expect_admin 200 /config
expect_admin 200 /config -H "Host: localhost:$ADMIN"
expect_admin 200 /config -H "Host: proxy.office.test:$ADMIN"
expect_match '^admin-host proxy\.office\.test$' "$BODY" "/config"
expect_admin 200 /healthz -H "Host: [::1]:$ADMIN"

expect_admin 403 /reload -X POST -H "Origin: http://evil.example"
expect_match 'another origin' "$BODY" "403 body"
expect_admin 403 /reload -X POST -H "Origin: null"
expect_admin 403 /reload -X POST -H "Origin: http://127.0.0.1:8080"
expect_admin 403 /reload -X POST -H "Sec-Fetch-Site: cross-site"
expect_admin 403 /reload -X POST -H "Host: evil.example:$ADMIN"
expect_admin 202 /reload -X POST
expect_admin 202 /reload -X POST -H "Origin: http://127.0.0.1:$ADMIN" -H "Sec-Fetch-Site: same-origin"
pinhole_stop
