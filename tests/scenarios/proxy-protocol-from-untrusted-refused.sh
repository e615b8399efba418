#!/bin/sh
# `listen ... proxy-protocol from CIDR...` trusts PROXY headers from those
# peers only: from another address a header gets 400 naming the cause (the
# claimed address reaches no log), while that peer's ordinary requests are
# served; a peer in the list has its header honoured.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
TRUSTED=$(free_port)
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol from 192.0.2.1 198.51.100.0/24
listen 127.0.0.1:$TRUSTED proxy-protocol from 127.0.0.0/8
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

raw send "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\nGET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n(.*\r\n)*\r\nA PROXY protocol header from 127\.0\.0\.1, which is not in the listener' eof
raw proxy-v2 198.51.100.7 127.0.0.1 5555 80 \
	send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 400 ' eof
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
no_log_line_matching '203\.0\.113\.9|198\.51\.100\.7'

# The untrusted peer without a header: an ordinary client.
expect_status 200 "http://www.origin.test:$WEB/hello"
log_line_matching " 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

# A trusted peer: the header's address is the client's.
raw_to 127.0.0.1 "$TRUSTED" send "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\nGET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nConnection: close\r\n\r\n" \
	expect '^HTTP/1\.1 200 ' eof
log_line_matching " 203\.0\.113\.9 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "

cat >"$T/bad.conf" <<EOF
listen 127.0.0.1:3128 proxy-protocol from
listen 127.0.0.1:3129 proxy-protocol from 10.0.0.0/33
EOF
run_pinhole validate -c "$T/bad.conf"
expect_eq 1 "$RC" "validate's exit status"
expect_match 'bad\.conf:1: .*needs at least one address' "$ERR" "validate's errors"
expect_match "bad\.conf:2: .*'10\.0\.0\.0/33' is not an address or CIDR" "$ERR" "validate's errors"
pinhole_stop
