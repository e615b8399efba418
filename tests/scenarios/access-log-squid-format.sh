#!/bin/sh
# The access log in Squid native format has one line per request or tunnel
# with the ten fields SARG/Calamaris read: time.ms elapsed client code/status
# bytes method URL user hierarchy/peer type.  For a tunnel, type says what
# its first bytes were (tls, stun, http or other).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
start_origin ECHO echo
hosts_entry 127.0.0.1 www.origin.test denied.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny domain denied.origin.test
allow dst-local
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
raw send "CONNECT 127.0.0.1:$ECHO HTTP/1.1\r\nHost: 127.0.0.1:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' send 'twelve bytes' expect '^twelve bytes$' \
	shut expect '^EOF after 12 bytes\n$' eof
expect_status 403 "http://denied.origin.test:$WEB/hello"
raw send "GET /hello HTTP/1.1\r\nHost: www.origin.test\r\n\r\n" expect '^HTTP/1\.1 400 '

eventually 5 test "$(wc -l <"$ACCESS_LOG")" -ge 4 ||
	fail "expected 4 access log lines, got: $(cat "$ACCESS_LOG")"
expect_eq 4 "$(wc -l <"$ACCESS_LOG" | tr -d ' ')" "access log lines"
now=$(date +%s)
n=0
while IFS= read -r line; do
	n=$((n + 1))
	expect_eq 10 "$(awk '{ print NF }' <<<"$line")" "fields in access log line $n ($line)"
	# %ts.%03tu then %6tr: elapsed right-aligned in six columns
	expect_match '^[0-9]{10}\.[0-9]{3} [ 0-9]{5}[0-9] [^ ]' "$line" "time and elapsed of line $n"
	ts=${line%%.*}
	[ $((now - ts)) -le 60 ] && [ $((ts - now)) -le 2 ] ||
		fail "line $n time $ts is not now ($now)"
done <"$ACCESS_LOG"

num='[0-9]{10}\.[0-9]{3} +[0-9]+'
log_line_matching "^$num 127\.0\.0\.1 TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_DIRECT/127\.0\.0\.1 text/plain$"
[ "$(awk '{ print $5 }' <<<"$LINE")" -gt 22 ] || fail "bytes of the GET line count less than its body: $LINE"
log_line_matching "^$num 127\.0\.0\.1 TCP_TUNNEL/200 [0-9]+ CONNECT 127\.0\.0\.1:$ECHO - HIER_DIRECT/127\.0\.0\.1 other$"
[ "$(awk '{ print $5 }' <<<"$LINE")" -ge 31 ] || fail "bytes of the tunnel line count less than the 31 bytes relayed: $LINE"
log_line_matching "^$num 127\.0\.0\.1 TCP_DENIED/403 [0-9]+ GET http://denied\.origin\.test:$WEB/hello - HIER_NONE/- text/plain$"
log_line_matching "^$num 127\.0\.0\.1 NONE_NONE/400 [0-9]+ GET [^ ]+ - HIER_NONE/- [^ ]+$"
pinhole_stop
