#!/bin/sh
# With `max-connections 2` and two client connections open, a third gets
# 503 "too many connections" and is closed; once one closes, new clients
# are served again.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin ECHO echo
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
max-connections 2
allow dst-local
allow all
EOF

connect="CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n"
RAWCLIENT_TIMEOUT=20 raw_bg holder1 send "$connect" expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	touch "$T/holder1.ready" wait-file "$T/never"
holder1=$SPAWNED_PID
RAWCLIENT_TIMEOUT=20 raw_bg holder2 send "$connect" expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	touch "$T/holder2.ready" wait-file "$T/never"
holder2=$SPAWNED_PID
wait_file "$T/holder1.ready"
wait_file "$T/holder2.ready"

raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 503 [^\r]*\r\n' \
	expect '\r\n\r\n.*(?i:too many connections)' \
	eof
expect_eq 0 "$(origin_count WEB)" "requests the origin received"

stop "$holder1"
eventually 5 pcurl -o /dev/null "http://www.origin.test:$WEB/hello" ||
	fail "no request served after a connection was freed"
expect_status 200 "http://www.origin.test:$WEB/hello"
stop "$holder2"
pinhole_stop
