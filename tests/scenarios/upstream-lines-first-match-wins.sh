#!/bin/sh
# Several upstream-proxy lines: the first whose matchers match the request
# decides (a `direct` line goes straight to the origin; a request no line
# matches goes direct too).  The client's own Proxy-Authorization (alice,
# for pinhole) never reaches the parent or the origin: the parent sees
# pinhole's credentials (bob), pinhole's log the client's user.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test direct.origin.test x.a.origin.test other.test
printf 'secret\n' | "$PINHOLE" passwd --basic bob >"$T/parent.htpasswd" || fail "pinhole passwd failed"
printf 'alice-pw\n' | "$PINHOLE" passwd --basic alice >"$T/child.htpasswd" || fail "pinhole passwd failed"
A=$(free_port)
B=$(free_port)
parent_pinhole_start A <<EOF
listen 127.0.0.1:$A
access-log $T/a-access.log squid
hosts-file $T/hosts
allow all
EOF
parent_pinhole_start B <<EOF
listen 127.0.0.1:$B
access-log $T/b-access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/parent.htpasswd
allow all
EOF
printf 'bob:secret\n' >"$T/b.cred"
chmod 600 "$T/b.cred"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/child.htpasswd
upstream-proxy direct domain direct.origin.test
upstream-proxy http://127.0.0.1:$A domain .a.origin.test
upstream-proxy http://127.0.0.1:$B credentials $T/b.cred domain .origin.test
allow all
EOF

expect_status 200 -U alice:alice-pw "http://direct.origin.test:$WEB/hello?direct"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://direct\.origin\.test:$WEB/hello\?direct alice HIER_DIRECT/127\.0\.0\.1 "

expect_status 200 -U alice:alice-pw "http://x.a.origin.test:$WEB/hello?a"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://x\.a\.origin\.test:$WEB/hello\?a - HIER_DIRECT/" "$T/a-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://x\.a\.origin\.test:$WEB/hello\?a alice FIRSTUP_PARENT/127\.0\.0\.1 "

expect_status 200 -U alice:alice-pw "http://www.origin.test:$WEB/echo"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/echo bob HIER_DIRECT/" "$T/b-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/echo alice FIRSTUP_PARENT/127\.0\.0\.1 "
expect_no_match '^proxy-authorization:' "$(echo_headers)" "headers the origin saw"

# Matched by no line: direct.
expect_status 200 -U alice:alice-pw "http://other.test:$WEB/hello?none"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://other\.test:$WEB/hello\?none alice HIER_DIRECT/127\.0\.0\.1 "

for f in a-access.log b-access.log; do
	no_log_line_matching 'direct\.origin\.test|other\.test' "$T/$f"
	no_log_line_matching ' alice ' "$T/$f"
done
no_log_line_matching 'x\.a\.origin\.test' "$T/b-access.log"
pinhole_stop
