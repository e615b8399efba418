#!/bin/sh
# A CONNECT whose target is not host:port (no port, empty host, port out of
# range, unclosed IPv6 bracket) gets 400 naming "host:port", the connection
# is closed, and nothing is dialled.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
allow all
EOF

for authority in "127.0.0.1" ":$ECHO" "127.0.0.1:99999" "127.0.0.1:port" \
	"[::1:$ECHO" "127.0.0.1:$ECHO/path"; do
	raw send "CONNECT $authority HTTP/1.1\r\nHost: $authority\r\n\r\n" \
		expect '^HTTP/1\.1 400 [^\r]*\r\n' \
		expect '(?i)(^|\r\n)content-type: text/plain' \
		expect '(?i)host:port' \
		eof
done
expect_eq 0 "$(origin_count ECHO)" "connections the echo origin received"
log_line_matching " NONE_NONE/400 [0-9]+ CONNECT "
pinhole_stop
