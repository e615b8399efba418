#!/bin/sh
# Under systemd (Type=notify, $NOTIFY_SOCKET), pinhole says READY=1 with a
# STATUS= line once it listens, RELOADING=1 with MONOTONIC_USEC= when a
# reload starts and READY=1 when it ends (its STATUS= telling a refused
# one), and STOPPING=1 when it drains.  The socket here is a datagram
# socket of the scenario's, as systemd's own is.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

# A datagram socket that appends each message to a file, messages separated
# by a line "--".
cat >"$T/notify.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
while True:
    msg = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(msg.rstrip("\n") + "\n--\n")
EOF
spawn notify "$PY" "$T/notify.py" "$T/notify.sock" "$T/notify.log"
wait_file "$T/notify.log.ready"

# notified REGEX: within 5 s, a message (all its lines joined by '|')
# matches the ERE.
notified() {
	eventually 5 sh -c "tr '\n' '|' <'$T/notify.log' | sed 's/|--|/\n/g' | grep -Eq -- '$1'" ||
		fail "no notification matching /$1/; got:
$(cat "$T/notify.log" 2>/dev/null)"
}

export NOTIFY_SOCKET=$T/notify.sock
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
pid-file $T/pinhole.pid
access-log $T/access.log squid
allow all
EOF
notified '^READY=1\|STATUS=serving: 1 listener, [0-9]+ workers, configuration generation 1$'

before=$("$PY" -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)')
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status of pinhole reload (stderr: $ERR)"
notified '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading the configuration$'
usec=$(tr '\n' '|' <"$T/notify.log" | sed 's/|--|/\n/g' | sed -n 's/^RELOADING=1|MONOTONIC_USEC=\([0-9]*\)|.*/\1/p' | tail -n 1)
# CLOCK_MONOTONIC, in microseconds (give or take a second).
[ "$usec" -ge $((before - 1000000)) ] && [ "$usec" -le $((before + 5000000)) ] ||
	fail "MONOTONIC_USEC=$usec is not now on CLOCK_MONOTONIC (about $before)"
notified '^READY=1\|STATUS=serving: 1 listener, [0-9]+ workers, configuration generation 2$'

echo "alow all" >>"$T/pinhole.conf"
run_pinhole reload -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole reload with a broken file"
notified '^READY=1\|STATUS=serving: .*generation 2; the reload at [0-9T:-]+Z was refused$'

kill -TERM "$PH_PID"
notified '^STOPPING=1\|STATUS=draining'
wait_gone "$PH_PID" 10 || fail "pinhole still runs 10 s after SIGTERM"
reap "$PH_PID"
expect_eq 0 "$WAIT_RC" "exit status after SIGTERM"
