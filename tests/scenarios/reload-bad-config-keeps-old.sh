#!/bin/sh
# A reload with a broken config is refused: the error names FILE:LINE in the
# error log, and pinhole keeps serving with the old config.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
deny domain www.origin.test
alow all
EOF
pinhole_reload

eventually 3 grep -qs 'pinhole\.conf:6:' "$T/error.log" "$T/pinhole.err" ||
	fail "no 'pinhole.conf:6:' error after the bad reload; error log and stderr:
$(cat "$T/error.log" "$T/pinhole.err" 2>/dev/null)"
expect_status 200 "http://www.origin.test:$WEB/hello"

# A later good reload still works.
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
deny domain www.origin.test
allow all
EOF
pinhole_reload
expect_status 403 "http://www.origin.test:$WEB/hello"
pinhole_stop
