#!/bin/sh
# With `timeout tunnel-idle 1s`, a CONNECT tunnel in which nothing moves is
# closed after about a second; a tunnel that keeps moving data is not.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
timeout tunnel-idle 1s
allow dst-local
allow all
EOF

connect="CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n"
# Busy: one exchange every 0.4 s for 2.4 s.
raw send "$connect" expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	send a expect '^a$' sleep 0.4 send b expect '^b$' sleep 0.4 \
	send c expect '^c$' sleep 0.4 send d expect '^d$' sleep 0.4 \
	send e expect '^e$' sleep 0.4 send f expect '^f$' sleep 0.4 \
	send g expect '^g$'

# Idle: cut.
start=$(date +%s)
raw send "$connect" expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	send ping expect '^ping$' \
	eof
elapsed=$(($(date +%s) - start))
[ "$elapsed" -le 6 ] || fail "the idle tunnel was cut after ${elapsed}s with timeout tunnel-idle 1s"
pinhole_stop
