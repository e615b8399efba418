#!/bin/sh
# A large response (5 MB) arrives byte-exact, and the access log counts at
# least those bytes as sent to the client.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/bytes/5000000"
expect_eq 5000000 "$(wc -c <"$T/last.body" | tr -d ' ')" "bytes received"
expect_eq "$("$PY" -c 'import sys; sys.stdout.buffer.write((b"0123456789abcdef" * 312501)[:5000000])' | sha256sum)" \
	"$(sha256sum <"$T/last.body")" "sha256 of the body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/bytes/5000000 "
bytes=$(awk '{ print $5 }' <<<"$LINE")
[ "$bytes" -ge 5000000 ] || fail "access log bytes: expected >= 5000000, got $bytes"
pinhole_stop
