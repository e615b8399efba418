#!/bin/sh
# Out of the box clients cannot reach the proxy host itself: `allow all`
# does not cover its loopback, link-local or unspecified addresses or its
# own listeners (the admin interface's /config included) — a rule must name
# them (`dst-local`, or an address pattern).  Address patterns in deny and
# allow rules match names by what they resolve to; a name the admin mapped
# in hosts-file may be local.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test
hosts_entry 127.0.0.3 www.internal.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
deny domain 127.0.0.3/32
allow dst-local port $ECHO
allow all
EOF
wait_admin

expect_status 403 "http://127.0.0.1:$ADMIN/config"
expect_match "Access denied: 127\.0\.0\.1, an address of the proxy host itself; a rule must name it" "$BODY" "403 body"
expect_status 403 "http://[::1]:$ADMIN/config"
expect_status 403 "http://169.254.169.254/latest/meta-data/"
expect_status 403 "http://0.0.0.0:$WEB/hello"
expect_status 403 -p "http://127.0.0.1:$WEB/hello"
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT 127\.0\.0\.1:$WEB "
expect_eq 0 "$(origin_count WEB)" "requests the origin received"

# Named by a rule: dst-local for the echo port.
raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n\r\n' send 'ping' expect '^ping$' shut expect 'EOF after 4 bytes' eof

# A name the admin mapped to a loopback address: allowed by `allow all`.
expect_status 200 "http://www.origin.test:$WEB/hello"
# An address rule matches a name by what it resolves to.
expect_status 403 "http://www.internal.test:$WEB/hello"
expect_match "Access denied by rule .*pinhole\.conf:5 \(deny domain 127\.0\.0\.3/32\): www\.internal\.test resolves to 127\.0\.0\.3\." "$BODY" "403 body"
pinhole_stop
