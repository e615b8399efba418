#!/bin/sh
# `deny src 127.0.0.0/8` refuses every client in that network (403 for GET
# and CONNECT), while a client from outside it (IPv6 loopback) is allowed by
# the next rule.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
V6_PORT=$(free_port)
if ipv6_available; then
	listen6="listen [::1]:$V6_PORT"
else
	listen6="# no IPv6 loopback here"
fi
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
$listen6
access-log $T/access.log squid
hosts-file $T/hosts
deny src 127.0.0.0/8
allow all
EOF

expect_status 403 "http://www.origin.test:$WEB/hello"
expect_match 'pinhole\.conf:5' "$BODY" "403 body naming the rule"
expect_status 403 -p "http://www.origin.test:$WEB/hello"
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
log_line_matching " 127\.0\.0\.1 TCP_DENIED/403 [0-9]+ GET "

if ipv6_available; then
	curl -q -sS --max-time 15 -x "http://[::1]:$V6_PORT" -o "$T/v6.body" \
		-w '%{http_code}' "http://www.origin.test:$WEB/hello" >"$T/v6.code"
	expect_eq 200 "$(cat "$T/v6.code")" "status for a client at ::1"
	log_line_matching " ::1 TCP_MISS/200 [0-9]+ GET "
fi
pinhole_stop
