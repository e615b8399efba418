#!/bin/sh
# What the client gets when the parent says no: a 407 pinhole has no
# credentials for, or that refuses pinhole's, is a 502 saying so (for plain
# HTTP and CONNECT); a CONNECT the parent answers 403 is a 502 naming the
# parent and its status, without the parent's body; a plain request the
# parent answers 403 is relayed as the origin's answer would be.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test denied.origin.test nocreds.test wrong.test
printf 'secret\n' | "$PINHOLE" passwd --basic bob >"$T/parent.htpasswd" || fail "pinhole passwd failed"
P=$(free_port)
parent_pinhole_start P <<EOF
listen 127.0.0.1:$P
access-log $T/parent-access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/parent.htpasswd
deny domain denied.origin.test
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
upstream-proxy http://127.0.0.1:$P domain nocreds.test
upstream-proxy http://bob:wrong@127.0.0.1:$P domain wrong.test
upstream-proxy http://bob:secret@127.0.0.1:$P
allow all
EOF

expect_status 502 "http://nocreds.test:$WEB/hello"
expect_eq "The parent proxy 127.0.0.1:$P demands authentication (Basic) and pinhole has no credentials for it." \
	"$BODY" "502 body"
raw send "CONNECT nocreds.test:443 HTTP/1.1\r\nHost: nocreds.test:443\r\n\r\n" \
	expect '^HTTP/1\.1 502 [^\r]*\r\n' \
	expect "\r\n\r\nThe parent proxy 127\.0\.0\.1:$P demands authentication \(Basic\) and pinhole has no credentials for it\.\n"
log_line_matching " TCP_MISS/502 [0-9]+ CONNECT nocreds\.test:443 - FIRSTUP_PARENT/127\.0\.0\.1 "

expect_status 502 "http://wrong.test:$WEB/hello"
expect_eq "The parent proxy 127.0.0.1:$P refused pinhole's credentials (Basic)." "$BODY" "502 body"

raw send "CONNECT denied.origin.test:$WEB HTTP/1.1\r\nHost: denied.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 502 [^\r]*\r\n' \
	expect "\r\n\r\nThe parent proxy 127\.0\.0\.1:$P answered the CONNECT with 403 Forbidden\.\n$"
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT denied\.origin\.test:$WEB bob " "$T/parent-access.log"

expect_status 403 "http://denied.origin.test:$WEB/hello"
expect_match "^Access denied by rule .*P\.conf:5 \(deny domain denied\.origin\.test\)" "$BODY" "the parent's own 403"
log_line_matching " TCP_MISS/403 [0-9]+ GET http://denied\.origin\.test:$WEB/hello - FIRSTUP_PARENT/127\.0\.0\.1 "
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
pinhole_stop
