#!/bin/sh
# `pinhole validate` refuses an admin address that is also a proxy listen
# address, naming the admin line and the listen line.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$PH_PORT
allow all
EOF
run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole validate"
expect_match "pinhole\.conf:2: admin address 127\.0\.0\.1:$PH_PORT is already a proxy listen address \(at .*pinhole\.conf:1\)" \
	"$ERR" "pinhole validate's error"
