#!/bin/sh
# check-webrtc exits 2, without a table, on a configuration error (printed as
# FILE:LINE: message), an unknown vendor (with a suggestion), no -c FILE or
# a --src that is not an address.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
alow all
EOF
run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 2 "$RC" "exit status on a bad config"
expect_match 'pinhole\.conf:2: unknown directive .alow.' "$ERR" "the config error"
expect_no_match 'summary' "$OUT" "a table for a bad config"

printf 'listen 127.0.0.1:%s\nallow all\n' "$PH_PORT" >"$T/pinhole.conf"
run_pinhole check-webrtc -c "$T/pinhole.conf" webx
expect_eq 2 "$RC" "exit status for an unknown vendor"
expect_match "unknown vendor 'webx' \(did you mean 'webex'\?\)" "$ERR" "the suggestion"

run_pinhole check-webrtc tokbox
expect_eq 2 "$RC" "exit status without -c"
expect_match 'pinhole check-webrtc -c FILE' "$ERR" "the usage hint"

run_pinhole check-webrtc -c "$T/pinhole.conf" --src 10.0.0.999
expect_eq 2 "$RC" "exit status for a bad --src"
expect_match "not an IPv4 or IPv6 address" "$ERR" "the --src error"
