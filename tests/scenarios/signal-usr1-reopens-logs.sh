#!/bin/sh
# SIGUSR1 reopens the log files and does nothing else (logrotate's
# postrotate): after the files are moved away, pinhole keeps running with
# the same configuration, writes new lines to new files under the old
# names, and the moved files keep what was written before.  A log that
# cannot be opened again leaves pinhole writing to the old one.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
mkdir "$T/logs"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/logs/access.log squid
error-log $T/logs/error.log
log-level info
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello?before"
log_line_matching " GET http://www\.origin\.test:$WEB/hello\?before " "$T/logs/access.log"
mv "$T/logs/access.log" "$T/logs/access.log.1"
mv "$T/logs/error.log" "$T/logs/error.log.1"
kill -USR1 "$PH_PID"
eventually 5 test -s "$T/logs/error.log" || {
	alive "$PH_PID" || { reap "$PH_PID"; fail "pinhole died of SIGUSR1 (exit status $WAIT_RC)"; }
	fail "no new error.log after SIGUSR1"
}
log_line_matching "notice: log files reopened" "$T/logs/error.log"

expect_status 200 "http://www.origin.test:$WEB/hello?after"
log_line_matching " GET http://www\.origin\.test:$WEB/hello\?after " "$T/logs/access.log"
no_log_line_matching "hello\?before" "$T/logs/access.log"
no_log_line_matching "hello\?after" "$T/logs/access.log.1"
# Nothing else happened: no reload.
no_log_line_matching "reloaded" "$T/logs/error.log"

# The directory gone: the old descriptor stays in use, and it is said.
mv "$T/logs" "$T/gone"
kill -USR1 "$PH_PID"
eventually 5 grep -q "SIGUSR1: .*cannot open log" "$T/gone/error.log" ||
	fail "no error about the log that cannot be reopened:
$(cat "$T/gone/error.log")"
expect_status 200 "http://www.origin.test:$WEB/hello?still"
log_line_matching " GET http://www\.origin\.test:$WEB/hello\?still " "$T/gone/access.log"
pinhole_stop
