#!/bin/sh
# Proxy-Authorization is meant for the proxy: pinhole never forwards it to
# the origin, and the credentials (or their base64) never appear in its logs.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level debug
hosts-file $T/hosts
allow all
EOF

expect_status 200 -U 'alice:S3cret-Passw0rd' --proxy-basic "http://www.origin.test:$WEB/echo"
expect_no_match '^proxy-authorization:' "$(echo_headers)" "headers the origin received"
expect_status 200 -H 'Proxy-Authorization: Basic YWxpY2U6UzNjcmV0LVBhc3N3MHJk' "http://www.origin.test:$WEB/echo"
expect_no_match '^proxy-authorization:' "$(echo_headers)" "headers the origin received"

log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/echo "
for f in "$T/access.log" "$T/error.log" "$T/pinhole.err" "$T/pinhole.out"; do
	[ -e "$f" ] || continue
	expect_no_match 'S3cret-Passw0rd|YWxpY2U6UzNjcmV0LVBhc3N3MHJk' "$(cat "$f")" "${f##*/}"
done
pinhole_stop
