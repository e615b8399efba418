#!/bin/sh
# A deny rule for Webex's media port 33434 above `preset webex` wins (first
# match): check-webrtc says the media requirement breaks, names the deny
# rule's FILE:LINE, prints the allow line to put before it, and exits 1.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
deny port 33434
preset webex
deny all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status when a webex requirement breaks (stderr: $ERR)"
expect_match '^webex +breaks +SPARK +media and screen sharing over TCP, \*:33434-33598' "$OUT" "the broken row"
expect_match 'CONNECT 192\.0\.2\.10:33434 is denied by .*pinhole\.conf:2 \(deny port 33434\)' "$OUT" \
	"the deny rule that decides"
expect_match 'fix: allow port 33434-33598 +\(before .*pinhole\.conf:2\)' "$OUT" "the fix line"
expect_match '^summary: webex breaks ' "$OUT" "summary"
expect_match '^webex +ok +SPARK +messaging' "$OUT" "the requirements still met"
