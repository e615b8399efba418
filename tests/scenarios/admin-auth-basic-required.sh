#!/bin/sh
# With `admin-auth htpasswd FILE`, every admin page needs Basic credentials:
# 401 with `WWW-Authenticate: Basic realm="pinhole admin"` without them or
# with a wrong password, 200 with them; the password is never logged.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"

printf 'Adm1n-Secret-42\n' | "$PINHOLE" passwd --basic root >"$T/admin.htpasswd" ||
	fail "pinhole passwd --basic failed"
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
admin-auth htpasswd $T/admin.htpasswd
access-log $T/access.log squid
error-log $T/error.log
log-level debug
allow all
EOF
wait_admin

for path in /healthz /metrics /config / /nowhere; do
	expect_admin 401 "$path"
	expect_match '^WWW-Authenticate: Basic realm="pinhole admin"$' "$HEADERS" "401 headers for $path"
done
expect_admin 401 /reload -X POST
expect_admin 401 /healthz -u root:Wrong-Guess-7
expect_admin 401 /healthz -u nobody:Adm1n-Secret-42
expect_admin 200 /healthz -u root:Adm1n-Secret-42
expect_eq "ok" "$BODY" "/healthz body"
expect_admin 200 /metrics -u root:Adm1n-Secret-42
expect_match '^pinhole_workers [1-9]' "$BODY" "/metrics"
log_line_matching "admin: wrong user name or password for user 'root' from 127\.0\.0\.1" "$T/error.log"
pinhole_stop
# Neither password, nor the base64 of "root:" that starts both tokens.
no_log_line_matching 'Adm1n-Secret|Wrong-Guess|cm9vdDp' "$T/error.log"
no_log_line_matching 'Adm1n-Secret|Wrong-Guess|cm9vdDp' "$T/pinhole.err"
