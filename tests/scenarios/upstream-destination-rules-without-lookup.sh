#!/bin/sh
# Through a parent pinhole never looks up the origin's name, yet the proxy
# host stays out of reach and address rules still hold where pinhole knows
# the address: an IP literal of the proxy host is refused (dst-local) and a
# hosts-file name meets IP rules by its addresses, before the parent hears
# of them; a name pinhole does not know goes to the parent unresolved.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/upstream.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
hosts_entry 192.0.2.7 lab.origin.test
cp "$T/hosts" "$T/child-hosts"
hosts_entry 127.0.0.1 unknown.origin.test
P=$(free_port)
parent_pinhole_start P <<EOF
listen 127.0.0.1:$P
access-log $T/parent-access.log squid
hosts-file $T/hosts
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/child-hosts
upstream-proxy http://127.0.0.1:$P
deny domain 192.0.2.0/24
allow all
EOF

expect_status 403 "http://127.0.0.1:$WEB/hello"
expect_match "an address of the proxy host itself" "$BODY" "403 body"
raw send "CONNECT 127.0.0.1:$WEB HTTP/1.1\r\nHost: 127.0.0.1:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 403 [^\r]*\r\n' expect 'an address of the proxy host itself'
expect_status 403 "http://lab.origin.test/hello"
expect_match "^Access denied by rule .*pinhole\.conf:5 \(deny domain 192\.0\.2\.0/24\): lab\.origin\.test resolves to 192\.0\.2\.7" \
	"$BODY" "403 body"
no_log_line_matching '127\.0\.0\.1:|lab\.origin\.test' "$T/parent-access.log"

# Known to the parent only: pinhole passes it on unresolved.
expect_status 200 "http://unknown.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://unknown\.origin\.test:$WEB/hello - HIER_DIRECT/127\.0\.0\.1 " \
	"$T/parent-access.log"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://unknown\.origin\.test:$WEB/hello - FIRSTUP_PARENT/127\.0\.0\.1 "
# A name in pinhole's hosts-file that the rules allow goes through the parent.
expect_status 200 "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_DIRECT/" "$T/parent-access.log"
pinhole_stop
