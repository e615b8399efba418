#!/bin/sh
# `preset cms` needs the Expressway-E host name: without it `pinhole
# validate` prints FILE:LINE and the usage, and exits 1.  With it, the dump
# shows the preset line and what it added, $HOST replaced by the name.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
preset cms
preset cms *.example.com
deny all
EOF

run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of validate"
expect_match 'pinhole\.conf:2: preset cms needs the Expressway-E host name .*usage: preset cms HOST' "$ERR" \
	"the error for line 2"
expect_match "pinhole\.conf:3: preset cms takes one host name, not the pattern '\*\.example\.com'" "$ERR" \
	"the error for line 3"

printf 'listen 127.0.0.1:%s\npreset cms Join.Example.COM\ndeny all\n' "$PH_PORT" >"$T/pinhole.conf"
run_pinhole validate -v -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status with a host (stderr: $ERR)"
expect_match '^preset cms join\.example\.com  # .*pinhole\.conf:2$' "$OUT" "the preset in the dump"
expect_match '^# allow domain join\.example\.com port 443 .*cms\.conf:[0-9]+ \(preset cms\)$' "$OUT" \
	"\$HOST replaced in the preset's rules"
expect_match '^# turn-server join\.example\.com:3478 ' "$OUT" "the preset's TURN server"
