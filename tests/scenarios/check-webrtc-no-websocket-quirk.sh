#!/bin/sh
# `quirk no-websocket` refuses WebSocket upgrades: Webex notifications
# [SPARK] and the CMS web app's wss [CMS] break, TokBox is not affected.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
quirk no-websocket
preset webex
preset tokbox
preset cms join.example.com
deny all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status with quirk no-websocket (stderr: $ERR)"
expect_match '^webex +breaks +SPARK +notifications \(wss\) on 443' "$OUT" "webex row"
expect_match '^cms +breaks +CMS +web bridge WebSocket \(wss\) on 443' "$OUT" "cms row"
expect_match 'fix: remove `quirk no-websocket`' "$OUT" "the fix"
expect_match '^summary: webex breaks, tokbox ok, cms breaks ' "$OUT" "summary"
