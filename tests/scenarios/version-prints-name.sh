#!/bin/sh
# `pinhole version` prints the program's name and version ("pinhole 0.3...")
# and the libraries it was built with, and exits 0.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

run_pinhole version
expect_eq 0 "$RC" "exit status of pinhole version"
expect_match '^pinhole 0\.3' "$OUT" "pinhole version output"
expect_match '^built with: OpenSSL .*, libcurl [0-9.]+, jansson [0-9.]+$' "$OUT" "the libraries, with those of pinhole report"
