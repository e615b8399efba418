#!/bin/sh
# `auth SCHEME helper "CMD"`: a helper program that is not there or cannot
# run, a bad option, and options that belong to the other kind of scheme are
# configuration errors at their file:line; a good helper line validates, and
# `validate -v` (what /config shows) prints it with its children and timeout.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf '#!/bin/sh\n' >"$T/not-executable"
chmod 644 "$T/not-executable"
cat >"$T/bad.conf" <<EOF
listen 127.0.0.1:$PH_PORT
auth basic helper "$T/no-such-helper -x" children 5
auth digest helper "$T/not-executable"
auth ntlm helper "/bin/cat" concurrency 4
auth negotiate helper "/bin/cat" children 0
allow all
EOF
run_pinhole validate -c "$T/bad.conf"
expect_eq 1 "$RC" "exit status of pinhole validate"
expect_match 'bad\.conf:2: auth basic helper: .*/no-such-helper: no such file' "$ERR" "missing program"
expect_match 'bad\.conf:3: auth digest helper: .*/not-executable: not executable' "$ERR" "program that cannot run"
expect_match "bad\.conf:4: unknown option 'concurrency' for auth ntlm helper" "$ERR" \
	"concurrency on a handshake scheme"
expect_match "bad\.conf:5: auth negotiate helper: bad value '0' for children" "$ERR" "children 0"

run_pinhole run -c "$T/bad.conf"
expect_eq 1 "$RC" "exit status of pinhole run"

cat >"$T/good.conf" <<EOF
listen 127.0.0.1:$PH_PORT
auth basic helper "/bin/cat" children 3 concurrency 8 timeout 2s cache 0
auth ntlm helper "/bin/cat" reservation-timeout 5s
allow all
EOF
run_pinhole validate -v -c "$T/good.conf"
expect_eq 0 "$RC" "exit status of pinhole validate on good helper lines ($ERR)"
expect_match 'auth basic helper "?/bin/cat"? children 3 concurrency 8 timeout 2000ms cache 0' "$OUT" \
	"Basic helper line shown"
expect_match 'auth ntlm helper "?/bin/cat"? children 5 timeout 10000ms reservation-timeout 5000ms' "$OUT" \
	"NTLM helper line shown with its defaults"
