#!/bin/sh
# An unknown preset, or one used twice, is a FILE:LINE error from `pinhole
# validate`, with a suggestion for a near miss; a mistake inside a preset
# file is reported at the preset file's own line.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
preset webx
preset zoom
preset tokbox
preset tokbox
deny all
EOF

run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of validate"
expect_match "pinhole\.conf:2: unknown preset 'webx' \(did you mean 'webex'\?\)" "$ERR" "line 2"
expect_match "pinhole\.conf:3: unknown preset 'zoom' \(one of: webex, tokbox, cms\)" "$ERR" "line 3"
expect_match "pinhole\.conf:5: preset tokbox is already used at .*pinhole\.conf:4" "$ERR" "line 5"
expect_no_match 'pinhole\.conf:(1|4|6):' "$ERR" "errors for the good lines"

mkdir "$T/presets"
printf '# broken on purpose\n\nallow domian .webex.com\n' >"$T/presets/webex.conf"
printf 'listen 127.0.0.1:%s\npreset webex\n' "$PH_PORT" >"$T/pinhole.conf"
PINHOLE_PRESET_DIR=$T/presets run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status with a broken preset file"
expect_match "presets/webex\.conf:3: unknown matcher 'domian'" "$ERR" "the preset file's own line"
