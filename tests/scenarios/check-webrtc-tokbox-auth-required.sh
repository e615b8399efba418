#!/bin/sh
# TokBox's WebRTC does not work behind proxy authentication [TOKBOX]: with
# `auth basic` on and its domains allowed but not exempt, check-webrtc says
# its media destinations break and prints the noauth line that fixes it.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
auth basic htpasswd $T/users.htpasswd
allow domain .tokbox.com .opentok.com .inevent.com .inevent.us .inevent.uk
allow domain inevent-virtual-lobby.firebaseapp.com ocsp.godaddy.com crl.godaddy.com
deny all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf" tokbox
expect_eq 1 "$RC" "exit status when tokbox needs authentication (stderr: $ERR)"
expect_match '^tokbox +breaks +TOKBOX +WebRTC signalling and media, \.tokbox\.com:443' "$OUT" "the tokbox row"
expect_match 'CONNECT tokbox\.com:443 needs proxy authentication' "$OUT" "why it breaks"
expect_match '^ +noauth domain \.tokbox\.com \.opentok\.com$' "$OUT" "the merged fix line"
expect_match '^tokbox +ok +TOKBOX +InEvent pages, \.inevent\.com:443 .*asks for credentials' "$OUT" \
	"pages behind authentication are fine"

# With the fix applied, nothing breaks.
sed -i '3i noauth domain .tokbox.com .opentok.com' "$T/pinhole.conf"
run_pinhole check-webrtc -c "$T/pinhole.conf" tokbox
expect_eq 0 "$RC" "exit status once the noauth line is added (output: $OUT)"
expect_match 'no credentials \(noauth at .*pinhole\.conf:3\)' "$OUT" "the exemption is named"
