#!/bin/sh
# When another program holds the admin address, pinhole does not start: it
# exits 1 with "cannot serve the admin interface on ADDR: Address already
# in use".
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

spawn squatter "$PY" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open(sys.argv[2], "w").close()
time.sleep(60)' "$ADMIN" "$T/squatter.ready"
wait_file "$T/squatter.ready"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
allow all
EOF
run_pinhole run -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole run with its admin address taken"
expect_match "cannot serve the admin interface on 127\.0\.0\.1:$ADMIN: Address already in use" "$ERR" \
	"pinhole's error"
