#!/bin/sh
# A mistake in an included file is reported with the included file's name
# and its own line number; the include is relative to the including file.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

mkdir "$T/conf.d"
cat >"$T/conf.d/rules.conf" <<EOF
allow domain www.origin.test
deny bogus-matcher
EOF
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
include conf.d/rules.conf
deny all
EOF

run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole validate"
expect_match 'rules\.conf:2: ' "$ERR" "error naming the included file and its line"
expect_no_match 'pinhole\.conf:[0-9]+: .*bogus' "$ERR" "error attributed to the including file"
