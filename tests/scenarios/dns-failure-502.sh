#!/bin/sh
# A host name that is neither in the hosts-file nor in DNS gives 502 whose
# body says DNS and names the host, for plain requests and CONNECT alike.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin DNS dns
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
dns-server 127.0.0.1:$DNS
allow all
EOF

expect_status 502 "http://nosuch.origin.test:$WEB/hello"
expect_match_i 'DNS' "$BODY" "502 body"
expect_match 'nosuch\.origin\.test' "$BODY" "502 body"
expect_match '^Content-Type: text/plain' "$HEADERS" "502 headers"
log_line_matching " [A-Z_]+/502 [0-9]+ GET http://nosuch\.origin\.test:$WEB/hello "

raw send "CONNECT nosuch.origin.test:443 HTTP/1.1\r\nHost: nosuch.origin.test:443\r\n\r\n" \
	expect '^HTTP/1\.1 502 [^\r]*\r\n' \
	expect '\r\n\r\n.*(?i:DNS)' \
	expect 'nosuch\.origin\.test'
log_line_matching " [A-Z_]+/502 [0-9]+ CONNECT nosuch\.origin\.test:443 "
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
pinhole_stop
