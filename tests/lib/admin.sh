# tests/lib/admin.sh - helpers for the admin interface scenarios
# (tests/scenarios/admin-*.sh), sourced after harness.sh:
#
#     . "$PH_LIB/admin.sh"
#
# gives a free port $ADMIN for the config's `admin 127.0.0.1:$ADMIN` line,
# wait_admin (after pinhole_start, which waits for the proxy ports only)
# and expect_admin, which makes one request straight to the interface.

ADMIN=$(free_port)
ADMIN_URL=http://127.0.0.1:$ADMIN

# wait_admin: the admin interface accepts connections within 5 s.
wait_admin() {
	eventually 5 port_listening "$ADMIN" ||
		fail "the admin interface does not listen on 127.0.0.1:$ADMIN 5 s after start-up"
}

# admin_get PATH [CURL ARGS...]: one request to the admin interface (never
# through the proxy); the status is in $CODE, the response in $HEADERS
# (CRs removed) and $BODY.
admin_get() {
	local path=$1
	shift
	CODE=$(curl -q -sS --max-time 15 -o "$T/admin.body" -D "$T/admin.headers" -w '%{http_code}' \
		"$@" "$ADMIN_URL$path" 2>"$T/admin.curlerr")
	BODY=$(cat "$T/admin.body" 2>/dev/null)
	HEADERS=$(tr -d '\r' <"$T/admin.headers" 2>/dev/null)
}

# expect_admin CODE PATH [CURL ARGS...]: admin_get, and the status is CODE.
expect_admin() {
	local want=$1
	shift
	admin_get "$@"
	[ "$CODE" = "$want" ] || fail "expected HTTP $want from the admin interface for $*; got ${CODE:-nothing} \
($(cat "$T/admin.curlerr"))
headers:
$HEADERS
body:
$BODY"
}

# admin_metric NAME: the value of an unlabelled metric of /metrics.
admin_metric() {
	admin_get /metrics
	awk -v n="$1" '$1 == n { print $2 }' <<<"$BODY"
}
