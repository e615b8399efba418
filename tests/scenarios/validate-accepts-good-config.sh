#!/bin/sh
# `pinhole validate -c FILE` exits 0 and prints no error for a config that
# uses every core directive correctly.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

hosts_entry 127.0.0.1 www.origin.test
cat >"$T/pinhole.conf" <<EOF
# an office proxy
listen 127.0.0.1:$PH_PORT
listen 127.0.0.1:$(free_port) proxy-protocol
access-log $T/access.log json
error-log stderr
log-level debug
hosts-file $T/hosts
timeout connect 2s
timeout header 10s
timeout idle 2m
timeout tunnel-idle 1h
timeout drain 5s
max-connections 100
max-header-size 8k
quirk http10-connect
deny src 192.0.2.0/24
deny method TRACE
allow domain "www.origin.test" .tree.test *.sub.test port 80 443 8000-8999
allow method CONNECT port 443
allow src 127.0.0.0/8 10.0.0.0/8 ::1/128
deny all
EOF

run_pinhole validate -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status of pinhole validate (stderr: $ERR)"
expect_no_match 'pinhole\.conf:[0-9]+:' "$ERR" "validate's stderr"
