#!/bin/sh
# `listen [::1]:PORT` serves clients over IPv6, and the access log shows the
# IPv6 client address.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

ipv6_available || skip "no IPv6 loopback (::1) on this machine"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen [::1]:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

PROXY="http://[::1]:$PH_PORT"
expect_status 200 "http://www.origin.test:$WEB/hello"
log_line_matching " ::1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
pinhole_stop
