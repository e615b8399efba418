#!/bin/sh
# A chunked request body with an invalid chunk size is never passed on as a
# valid request: the client gets no success answer (a 400 if anything) and
# the connection is closed.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

for size in zz -5 '5 5' 0x5 123456789012345678901; do
	raw send "POST http://www.origin.test:$WEB/echo HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nTransfer-Encoding: chunked\r\n\r\n$size\r\nhello\r\n0\r\n\r\n" \
		eof print
	first=$(head -n 1 <<<"$RAW_OUT" | tr -d '\r')
	[ -z "$first" ] || expect_match '^HTTP/1\.1 400 ' "$first" "answer to chunk size '$size'"
done
pinhole_stop
