#!/bin/sh
# Each vendor preset alone, before a `deny all`, meets every requirement of
# its vendor: `pinhole check-webrtc` prints "ok" rows, a summary naming the
# vendor ok, and exits 0; --json says the same in JSON.  With TLS inspection
# on, the webex preset keeps Webex's pinned domains spliced.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR

for preset in webex tokbox "cms join.example.com"; do
	vendor=${preset%% *}
	printf 'listen 127.0.0.1:%s\npreset %s\ndeny all\n' "$PH_PORT" "$preset" >"$T/pinhole.conf"
	run_pinhole check-webrtc -c "$T/pinhole.conf"
	expect_eq 0 "$RC" "exit status of check-webrtc with preset $preset (stderr: $ERR)"
	expect_match "^summary: $vendor ok " "$OUT" "summary for preset $preset"
	expect_match "^$vendor +ok +[A-Z]+ " "$OUT" "ok rows for preset $preset"
	expect_no_match "^[a-z]+ +(breaks|degraded) " "$OUT" "rows that break or degrade with preset $preset"
	expect_match "TLS inspection is off, nothing is inspected" "$OUT" "the inspection line"
	expect_match "allowed by .*/$vendor\.conf:[0-9]+" "$OUT" "rules named by their preset file and line"
done

run_pinhole check-webrtc --json -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status of check-webrtc --json"
result=$("$PY" -c 'import json, sys
d = json.loads(sys.stdin.read())
print(d["vendors"][0]["name"], d["vendors"][0]["result"], len(d["findings"]), d["fixes"])' <<<"$OUT") ||
	fail "check-webrtc --json printed no valid JSON: $OUT"
expect_eq "cms ok 2 []" "$result" "the JSON verdict for preset cms"

"$PINHOLE" ca create "$T/pca" >/dev/null || fail "pinhole ca create failed"
printf 'listen 127.0.0.1:%s\ntls-inspect ca %s %s\npreset webex\ndeny all\n' "$PH_PORT" \
	"$T/pca/ca.crt" "$T/pca/ca.key" >"$T/pinhole.conf"
run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status of check-webrtc with inspection and preset webex (stderr: $ERR)"
for p in '\*\.wbx2\.com' 'identity\.webex\.com' 'idbroker\.webex\.com'; do
	expect_match "^webex +ok +SPARK +pinned $p never inspected +spliced \(no-inspect\)" "$OUT" "pinned $p"
done
