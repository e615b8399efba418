#!/bin/sh
# A `proxy-protocol` listener requires the header: a request without it, or
# with a malformed one, is not served (the connection is closed, after a 400
# at most).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT proxy-protocol
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

get="GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n"
for header in "" \
	"PROXY TCP4 not-an-address 127.0.0.1 5555 80\r\n" \
	"PROXY TCP4 203.0.113.9 127.0.0.1 5555\r\n" \
	"PROXY TCP4 203.0.113.9 127.0.0.1 99999 80\r\n" \
	"PROXY UDP9 203.0.113.9 127.0.0.1 5555 80\r\n" \
	"\r\n\r\n\0\r\nQUIT\n\x99\x11\0\x0c"; do
	raw send "$header$get" eof print
	first=$(head -n 1 <<<"$RAW_OUT" | tr -d '\r')
	[ -z "$first" ] || expect_match '^HTTP/1\.[01] 400 ' "$first" "answer with PROXY header '$header'"
done
expect_eq 0 "$(origin_count WEB)" "requests the origin received"
pinhole_stop
