#!/bin/sh
# A port pinhole listens on is its own: a second pinhole on the same port
# (which SO_REUSEPORT would let share it) fails with exit status 1 and a
# message naming the port and the first one's pid, as Squid and HAProxy
# fail with "address in use", and the first keeps serving every request.
# The admin interface's address is just as exclusive.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
workers 2
allow all
EOF
wait_admin

cat >"$T/second.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/second.log squid
hosts-file $T/hosts
allow all
EOF
run_pinhole run -c "$T/second.conf"
expect_eq 1 "$RC" "exit status of a second pinhole on port $PH_PORT"
expect_match "second\.conf:1: cannot listen on 127\.0\.0\.1:$PH_PORT: the address is in use by another process: pid $PH_PID \(pinhole\)" \
	"$ERR" "the second pinhole's error"

# A wildcard address on the same port is refused too.
sed -i "s/^listen .*/listen *:$PH_PORT/" "$T/second.conf"
run_pinhole run -c "$T/second.conf"
expect_eq 1 "$RC" "exit status of a second pinhole on *:$PH_PORT"
expect_match "cannot listen on \*:$PH_PORT: the address is in use by another process: pid $PH_PID" "$ERR" \
	"the second pinhole's error (wildcard)"

# Started in the background, it does not stay around either.
sed -i "s/^listen .*/listen 127.0.0.1:$PH_PORT/" "$T/second.conf"
spawn second "$PINHOLE" run -c "$T/second.conf"
second=$SPAWNED_PID
wait_pid "$second" 10
expect_eq 1 "$WAIT_RC" "exit status of the second pinhole in the background"

# Every request goes to the first.
for i in $(seq 1 20); do
	expect_status 200 "http://www.origin.test:$WEB/hello?r$i"
done
eventually 5 test "$(grep -cE ' GET http://www\.origin\.test:[0-9]*/hello\?r[0-9]* ' "$ACCESS_LOG")" = 20 ||
	fail "the first pinhole logged $(grep -c ' GET ' "$ACCESS_LOG") of 20 requests"
[ -s "$T/second.log" ] && fail "the second pinhole logged requests: $(cat "$T/second.log")"

# The admin address.
cat >"$T/third.conf" <<EOF
listen 127.0.0.1:$(free_port)
admin 127.0.0.1:$ADMIN
access-log $T/third.log squid
allow all
EOF
run_pinhole run -c "$T/third.conf"
expect_eq 1 "$RC" "exit status of a second pinhole on the admin address"
expect_match "cannot serve the admin interface on 127\.0\.0\.1:$ADMIN: Address already in use: pid $PH_PID \(pinhole\) listens there" \
	"$ERR" "the third pinhole's error"
expect_admin 200 /healthz
pinhole_stop
