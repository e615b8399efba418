#!/bin/sh
# pid-file FILE: pinhole writes its process id there when it starts and
# removes the file when it stops.  A second pinhole with the same pid-file
# is refused (exit 1) naming the first one's pid, which keeps running; a
# file left by a pinhole that was killed is taken over.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

PORT2=$(free_port)
mkdir "$T/run"
conf() {
	cat <<EOF
listen 127.0.0.1:$1
access-log $T/access.log squid
pid-file $T/run/pinhole.pid
allow all
EOF
}
pinhole_start < <(conf "$PH_PORT")
eventually 5 test -s "$T/run/pinhole.pid" || fail "no pid file"
expect_eq "$PH_PID" "$(cat "$T/run/pinhole.pid")" "the pid file"

conf "$PORT2" >"$T/second.conf"
run_pinhole run -c "$T/second.conf"
expect_eq 1 "$RC" "exit status of a second pinhole on the same pid-file"
expect_match "second\.conf:3: another pinhole \(pid $PH_PID\) runs with the pid-file $T/run/pinhole\.pid" "$ERR" \
	"the second pinhole's error"
port_listening "$PORT2" && fail "the second pinhole listens on $PORT2"
alive "$PH_PID" || fail "the first pinhole is gone"
expect_eq "$PH_PID" "$(cat "$T/run/pinhole.pid")" "the pid file after the refused start"

pinhole_stop
[ -e "$T/run/pinhole.pid" ] && fail "the pid file is still there after pinhole stopped"
[ -e "$T/run/pinhole.ctl" ] && fail "the control socket is still there after pinhole stopped"

# Killed: the file stays, and the next pinhole takes it over.
pinhole_start < <(conf "$PH_PORT")
first=$PH_PID
kill -KILL "$first"
wait_gone "$first" 5
reap "$first"
[ -s "$T/run/pinhole.pid" ] || fail "no pid file left by the killed pinhole"
pinhole_start < <(conf "$PH_PORT")
eventually 5 test "$(cat "$T/run/pinhole.pid")" = "$PH_PID" || fail "the stale pid file was not taken over"
pinhole_stop
