#!/bin/sh
# `quirk strict-tls` closes tunnels that do not start with TLS, which is what
# TURN over TCP looks like: check-webrtc says every vendor breaks, citing
# TOKBOX for TokBox and MEASURED for the others, and exits 1.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
quirk strict-tls
preset tokbox
preset webex
preset cms join.example.com
deny all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status with quirk strict-tls (stderr: $ERR)"
expect_match '^tokbox +breaks +TOKBOX +TURN over TCP through the proxy' "$OUT" "tokbox row"
expect_match '^webex +breaks +MEASURED +TURN over TCP through the proxy' "$OUT" "webex row"
expect_match '^cms +breaks +MEASURED +TURN over TCP through the proxy' "$OUT" "cms row"
expect_match 'fix: remove `quirk strict-tls`' "$OUT" "the fix"
expect_match '^summary: tokbox breaks, webex breaks, cms breaks ' "$OUT" "summary"
