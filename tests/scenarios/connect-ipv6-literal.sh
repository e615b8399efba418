#!/bin/sh
# CONNECT to an IPv6 literal, `CONNECT [::1]:PORT`, opens a tunnel to that
# address; the log shows the bracketed authority and the IPv6 peer.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

ipv6_available || skip "no IPv6 loopback (::1) on this machine"
start_origin ECHO6 echo --bind ::1
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
allow dst-local
allow all
EOF

raw send "CONNECT [::1]:$ECHO6 HTTP/1.1\r\nHost: [::1]:$ECHO6\r\n\r\n" \
	expect '^HTTP/1\.1 200 Connection established\r\n(?:[^\r]+\r\n)*\r\n' \
	send 'over IPv6' expect '^over IPv6$' \
	shut expect '^EOF after 9 bytes\n$' eof
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT \[::1\]:$ECHO6 - HIER_DIRECT/::1 "
pinhole_stop
