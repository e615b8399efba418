#!/bin/sh
# Checking cms without `preset cms HOST` cannot know the Expressway-E: the
# requirement breaks with the line to add.  Checked only because the config
# names no vendor, the same finding is a hint (degraded) and exits 0.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
allow all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf" cms
expect_eq 1 "$RC" "exit status of check-webrtc cms without a host (stderr: $ERR)"
expect_match '^cms +breaks +CMS ' "$OUT" "the cms row"
expect_match 'no Expressway-E host: add `preset cms HOST`' "$OUT" "why"
expect_match '^ +preset cms HOST$' "$OUT" "the fix line"

run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status when every vendor is checked by default (output: $OUT)"
expect_match '^cms +degraded +CMS ' "$OUT" "the hint"
expect_match '^summary: webex ok, tokbox ok, cms degraded ' "$OUT" "summary"
