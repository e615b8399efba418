#!/bin/sh
# A reload applies `listen` and `admin` changes instead of ignoring them:
# a new listen address accepts at once, a removed one stops accepting while
# the tunnels it accepted keep running, a listener's proxy-protocol option
# follows the file, and the admin interface starts, moves and stops.  A
# listen address another process holds refuses the whole reload, naming
# that process, and the old configuration stays.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

start_origin ECHO echo
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test echo.origin.test
B=$(free_port)
ADMIN2=$(free_port)
conf_text() {
	cat <<EOF
pid-file $T/pinhole.pid
access-log $T/access.log squid
hosts-file $T/hosts
$1
allow all
EOF
}
reload_with() {
	conf_text "$1" >"$T/pinhole.conf"
	run_pinhole reload -c "$T/pinhole.conf"
}
pinhole_start < <(conf_text "listen 127.0.0.1:$PH_PORT")
expect_status 200 "http://www.origin.test:$WEB/hello"
port_listening "$ADMIN" && fail "an admin interface before any admin line"

# A tunnel through the first address, open across the reloads.
RAWCLIENT_TIMEOUT=30 raw_bg tunnel \
	send "CONNECT echo.origin.test:$ECHO HTTP/1.1\r\nHost: echo.origin.test:$ECHO\r\n\r\n" \
	expect '^HTTP/1\.1 200 .*?\r\n\r\n' \
	send 'before' expect '^before$' \
	touch "$T/tunnel.open" wait-file "$T/moved" \
	send 'after' expect '^after$' \
	shut expect '^EOF after 11 bytes\n$' eof
tunnel=$SPAWNED_PID
wait_file "$T/tunnel.open"

# Added: a second address and the admin interface.
reload_with "listen 127.0.0.1:$PH_PORT
listen 127.0.0.1:$B
admin 127.0.0.1:$ADMIN"
expect_eq 0 "$RC" "pinhole reload adding a listener and admin (stderr: $ERR)"
PROXY=http://127.0.0.1:$B expect_status 200 "http://www.origin.test:$WEB/hello"
expect_status 200 "http://www.origin.test:$WEB/hello"
expect_admin 200 /healthz
log_line_matching "notice: reload: now listening on 127\.0\.0\.1:$B" "$T/pinhole.err"

# Moved: the first address goes, the admin interface moves.
reload_with "listen 127.0.0.1:$B
admin 127.0.0.1:$ADMIN2"
expect_eq 0 "$RC" "pinhole reload moving the listener and admin (stderr: $ERR)"
eventually 5 sh -c "! curl -s -o /dev/null --max-time 2 -x http://127.0.0.1:$PH_PORT http://www.origin.test:$WEB/hello" ||
	fail "the removed listener 127.0.0.1:$PH_PORT still accepts"
port_listening "$PH_PORT" && fail "pinhole still listens on the removed 127.0.0.1:$PH_PORT"
PROXY=http://127.0.0.1:$B expect_status 200 "http://www.origin.test:$WEB/hello"
port_listening "$ADMIN" && fail "the old admin address $ADMIN still listens"
ADMIN_URL=http://127.0.0.1:$ADMIN2 expect_admin 200 /healthz
touch "$T/moved"
wait_pid "$tunnel"
[ "$WAIT_RC" = 0 ] || { cat "$T/tunnel.err" >&2; fail "the tunnel accepted on the removed listener broke"; }

# proxy-protocol on an address kept: a request without the header is
# refused now.
reload_with "listen 127.0.0.1:$B proxy-protocol
admin 127.0.0.1:$ADMIN2"
expect_eq 0 "$RC" "pinhole reload turning proxy-protocol on (stderr: $ERR)"
before=$(origin_count WEB)
raw_to 127.0.0.1 "$B" send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" eof print
first=$(head -n 1 <<<"$RAW_OUT" | tr -d '\r')
[ -z "$first" ] || expect_match '^HTTP/1\.[01] 400 ' "$first" "a request without a PROXY header"
expect_eq "$before" "$(origin_count WEB)" "requests the origin received"

# A listen address another process holds: the reload is refused whole.
reload_with "listen 127.0.0.1:$B
listen 127.0.0.1:$WEB
deny domain www.origin.test"
expect_eq 1 "$RC" "pinhole reload onto a taken address"
expect_match "pinhole\.conf:5: cannot listen on 127\.0\.0\.1:$WEB: the address is in use by another process: pid [0-9]+ \(python3\)" \
	"$ERR" "the refused reload's error"
ADMIN_URL=http://127.0.0.1:$ADMIN2 expect_admin 200 /healthz
expect_match 'was refused: .*cannot listen on 127\.0\.0\.1:' "$BODY" "/healthz after the refused reload"

# Removed: the admin interface stops.
reload_with "listen 127.0.0.1:$B"
expect_eq 0 "$RC" "pinhole reload removing admin (stderr: $ERR)"
port_listening "$ADMIN2" && fail "the admin interface still listens after its line was removed"
PROXY=http://127.0.0.1:$B expect_status 200 "http://www.origin.test:$WEB/hello"
PH_PORT=$B pinhole_stop
