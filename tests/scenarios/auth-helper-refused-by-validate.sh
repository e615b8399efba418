#!/bin/sh
# The `helper "CMD"` forms of `auth` (Squid's helper protocol) are not in this
# release: `pinhole validate` says so at each one's file:line and exits 1, and
# `pinhole run` refuses to start with that config.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
auth basic helper "/usr/lib/squid/basic_ncsa_auth /etc/squid/passwd" children 5
auth digest helper "/usr/lib/squid/digest_file_auth /etc/squid/digest"
auth ntlm helper "ntlm_auth --helper-protocol=squid-2.5-ntlmssp"
auth negotiate helper "/usr/lib/squid/negotiate_kerberos_auth"
allow all
EOF

run_pinhole validate -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole validate"
for l in 2:basic 3:digest 4:ntlm 5:negotiate; do
	expect_match "pinhole\.conf:${l%%:*}: auth ${l#*:} helper is not available" "$ERR" "validate's error for line ${l%%:*}"
done

run_pinhole run -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status of pinhole run"
expect_match 'pinhole\.conf:2: auth basic helper is not available' "$ERR" "pinhole run's errors"
