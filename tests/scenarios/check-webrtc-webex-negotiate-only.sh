#!/bin/sh
# The Webex app does not support Kerberos [SPARK]: when Negotiate is the only
# scheme offered, check-webrtc says webex breaks and asks for a second scheme.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
PINHOLE_PRESET_DIR=$PH_SRCDIR/conf/presets
export PINHOLE_PRESET_DIR
command -v ktutil >/dev/null || skip "needs ktutil (apt-get install krb5-user)"

# A keytab with one key is all the parser asks of Negotiate; no KDC is needed.
printf '%s\n' 'addent -password -p HTTP/proxy.pinhole.test@TEST.PINHOLE -k 1 -e aes256-cts-hmac-sha1-96' \
	'not-a-secret' "wkt $T/proxy.keytab" quit | ktutil >"$T/ktutil.out" 2>&1
[ -s "$T/proxy.keytab" ] || fail "ktutil made no keytab: $(cat "$T/ktutil.out")"
cat >"$T/pinhole.conf" <<EOF
listen 127.0.0.1:$PH_PORT
auth negotiate keytab $T/proxy.keytab
preset webex
deny all
EOF

run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 1 "$RC" "exit status with Negotiate as the only scheme (stderr: $ERR)"
expect_match '^webex +breaks +SPARK +a proxy authentication scheme its clients support' "$OUT" "the broken row"
expect_match 'Negotiate \(Kerberos\) is the only scheme offered' "$OUT" "why"
expect_match 'fix: add a scheme beside negotiate' "$OUT" "the fix"

# A second scheme beside Negotiate is enough.
printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd"
sed -i "2a auth basic htpasswd $T/users.htpasswd" "$T/pinhole.conf"
run_pinhole check-webrtc -c "$T/pinhole.conf"
expect_eq 0 "$RC" "exit status with Basic beside Negotiate (output: $OUT)"
