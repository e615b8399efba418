#!/bin/sh
# With TLS inspection on, a configuration that would inspect Webex's pinned
# domains breaks the Webex app [SPARK]: without the preset's no-inspect line
# each pinned domain is a "breaks" row whose fix is `no-inspect PATTERN`, and
# with the preset plus `quirk inspect-all` the fix is to remove the quirk.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

"$PINHOLE" ca create "$T/pca" >/dev/null || fail "pinhole ca create failed"
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
tls-inspect ca $T/pca/ca.crt $T/pca/ca.key
allow all
EOF
run_pinhole check-webrtc -c "$T/pinhole.conf" webex
expect_eq 1 "$RC" "exit status when pinned domains would be inspected"
expect_match '^webex +breaks +SPARK +pinned identity\.webex\.com never inspected' "$OUT" "pinned identity.webex.com"
expect_match 'CONNECT check\.wbx2\.com:443 would be inspected' "$OUT" "why, for *.wbx2.com"
expect_match '^ +no-inspect \*\.wbx2\.com$' "$OUT" "the fix for *.wbx2.com"
expect_match '^ +no-inspect idbroker\.webex\.com$' "$OUT" "the fix for idbroker.webex.com"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
tls-inspect ca $T/pca/ca.crt $T/pca/ca.key
preset webex
quirk inspect-all
deny all
EOF
run_pinhole check-webrtc -c "$T/pinhole.conf" webex
expect_eq 1 "$RC" "exit status with quirk inspect-all"
expect_match 'would be inspected \(quirk inspect-all\)' "$OUT" "why"
expect_match '^ +remove `quirk inspect-all`$' "$OUT" "the fix"
