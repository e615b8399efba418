#!/bin/sh
# A name listed only in the hosts-file (DNS says it does not exist) resolves
# to the hosts-file address, for plain requests and CONNECT.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin DNS dns
start_origin WEB http
start_origin ECHO echo
cat >"$T/hosts" <<EOF
# lab names
127.0.0.1	lab-only.origin.test	other-alias.origin.test
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
dns-server 127.0.0.1:$DNS
allow all
EOF

expect_status 200 "http://lab-only.origin.test:$WEB/hello"
expect_status 200 "http://other-alias.origin.test:$WEB/hello"
raw send "CONNECT lab-only.origin.test:$ECHO HTTP/1.1\r\nHost: lab-only.origin.test:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 ' \
	expect '\r\n\r\n' send 'x' expect '^x$'
log_line_matching " TCP_MISS/200 [0-9]+ GET http://lab-only\.origin\.test:$WEB/hello - HIER_DIRECT/127\.0\.0\.1 "
expect_status 502 "http://not-listed.origin.test:$WEB/hello"
pinhole_stop
