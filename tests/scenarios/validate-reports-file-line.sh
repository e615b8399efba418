#!/bin/sh
# `pinhole validate -c FILE` on a config with mistakes prints one
# "FILE:LINE: message" per mistake on stderr and exits 1.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
# line 2 is a comment
alow all
timeout connect soon
allow domian www.origin.test
allow all
EOF

run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole validate on a bad config"
expect_match 'pinhole\.conf:3: .*alow' "$ERR" "error for the unknown directive on line 3"
expect_match 'pinhole\.conf:4: ' "$ERR" "error for the bad duration on line 4"
expect_match 'pinhole\.conf:5: .*domian' "$ERR" "error for the unknown matcher on line 5"
expect_no_match 'pinhole\.conf:(1|2|6):' "$ERR" "errors for the good lines"
