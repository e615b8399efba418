#!/bin/sh
# The admin's own TURN servers (turn-server) are checked like a vendor's,
# as vendor "turn": behind `auth basic`, with allow rules that do not name
# it, check-webrtc says the TURN server breaks (denied, fixed by an allow
# line before the deny rule) and needs credentials Chromium never sends
# there [MEASURED] (degraded, fixed by a noauth line); with the lines it
# printed added, every row of it is ok.  A TURN server of a preset is the
# vendor's and not listed again.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
auth basic htpasswd $T/users.htpasswd
turn-server turn.example.org:5349
preset cms join.example.org
allow domain www.example.com port 443
deny all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status when the TURN server is denied (stderr: $ERR)"
expect_match '^turn +breaks +MEASURED +TURN server turn\.example\.org:5349 \(turn-server at .*pinhole\.conf:3\)' \
	"$OUT" "the denied TURN server's row"
expect_match 'CONNECT turn\.example\.org:5349 is denied by .*pinhole\.conf:6 \(deny all\)' "$OUT" "why it breaks"
expect_match '^turn +degraded +MEASURED +TURN server turn\.example\.org:5349 ' "$OUT" "the authentication row"
expect_match 'Chromium never answers a 407 there' "$OUT" "why credentials are a problem there"
expect_match '^ +allow domain turn\.example\.org port 5349 +# before .*pinhole\.conf:6$' "$OUT" "the allow fix"
expect_match '^ +noauth domain .*turn\.example\.org' "$OUT" "the noauth fix"
expect_match '^summary: cms (ok|degraded|breaks), turn breaks ' "$OUT" "the summary names the TURN servers"
expect_no_match '^turn .*join\.example\.org' "$OUT" "the preset's TURN servers (the vendor's rows)"

# The lines it printed for the TURN server, where it says: nothing of it
# is left to fix.
fixes=$(printf '%s\n' "$OUT" | sed -n '/^to fix/,$p' | grep -E '^ +(allow|noauth) .*turn\.example\.org' |
	sed 's/ *#.*//; s/^ *//')
[ -n "$fixes" ] || fail "no fix line for the TURN server in: $OUT"
{
	sed -n 1,5p "$T/pinhole.conf"
	printf '%s\n' "$fixes"
	sed -n '6,$p' "$T/pinhole.conf"
} >"$T/fixed.conf"
run_pinhole check-webrtc -c "$T/fixed.conf"
expect_match '^turn +ok +MEASURED +TURN server turn\.example\.org:5349 .*no credentials \(noauth at ' "$OUT" \
	"the TURN server once fixed"
expect_no_match '^turn +(breaks|degraded) ' "$OUT" "TURN rows left to fix"
expect_match '^summary: .*turn ok ' "$OUT" "summary once fixed"
