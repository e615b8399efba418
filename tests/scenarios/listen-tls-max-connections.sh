#!/bin/sh
# With max-connections reached, a new client of an HTTPS proxy listener
# cannot read the plain-text 503 a plain listener sends before its
# handshake: it gets the TLS alert internal_error at once (curl: "tlsv1
# alert internal error"), and the access log the 503 line.  Once the
# connection holding the place closes, clients are served again.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/https_proxy.sh"

make_proxy_cert
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
access-log $T/access.log squid
hosts-file $T/hosts
max-connections 1
allow all
EOF

# One TLS client holds the only place until $T/release appears (20 s at most).
spawn holder "$PY" -c '
import os, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15),
                    server_hostname="proxy.test")
open(sys.argv[3] + ".ready", "w").close()
deadline = time.monotonic() + 20
while not os.path.exists(sys.argv[3]) and time.monotonic() < deadline:
    time.sleep(0.1)
s.close()
' "$PH_PORT" "$T/ca.pem" "$T/release"
holder=$SPAWNED_PID
wait_file "$T/release.ready"

start=$(date +%s%N)
pcurl -o /dev/null "http://www.origin.test:$WEB/hello" 2>"$T/curl.err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq 35 "$rc" "curl's exit status at max-connections ($(cat "$T/curl.err"))"
expect_match 'tlsv1 alert internal error' "$(cat "$T/curl.err")" "what curl prints at max-connections"
[ "$ms" -lt 1000 ] || fail "curl took $ms ms to be refused"
log_line_matching " NONE_NONE/503 7 - - - HIER_NONE/- text/plain"
expect_eq 0 "$(origin_count WEB)" "requests the origin received"

touch "$T/release"
wait_pid "$holder"
eventually 5 pcurl -o /dev/null "http://www.origin.test:$WEB/hello" ||
	fail "no request served after the place was freed"
expect_status 200 "http://www.origin.test:$WEB/hello"
pinhole_stop
