#!/bin/sh
# `auth ntlm users FILE domain CORP host PROXY1` puts those names in the NTLM
# challenge (target name and target information, which NTLMv2 clients such as
# Chromium and cntlm require), and a user line without DOMAIN\ fits any domain.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
expect_match '^alice:[0-9a-f]{32}$' "$(cat "$T/users.ntlm")" "a user line without a domain"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm domain CORP host PROXY1
allow all
EOF

# The type 1 message curl sends first; the whole 407 head is printed.
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\nProxy-Authorization: NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n" \
	expect '^(?=HTTP/1\.1 407 .*\r\n\r\n)' print
type2=$(sed -n 's/^Proxy-Authenticate: NTLM \([A-Za-z0-9+/=]*\).*/\1/p' "$T/raw.out" | tr -d '\r')
names=$("$PY" - "$type2" <<'PYEOF'
import base64, struct, sys
m = base64.b64decode(sys.argv[1])
assert m[:8] == b"NTLMSSP\0" and struct.unpack("<I", m[8:12])[0] == 2, "not a type 2 message"
tlen, _, toff = struct.unpack("<HHI", m[12:20])
flags = struct.unpack("<I", m[20:24])[0]  # curl asked for OEM, not Unicode
print("target", m[toff:toff + tlen].decode("utf-16-le" if flags & 1 else "latin-1"))
ilen, _, ioff = struct.unpack("<HHI", m[40:48])
info, names = m[ioff:ioff + ilen], {1: "netbios-host", 2: "netbios-domain", 3: "dns-host", 4: "dns-domain"}
while len(info) >= 4:
    av, n = struct.unpack("<HH", info[:4])
    if av == 0:
        break
    if av in names:
        print(names[av], info[4:4 + n].decode("utf-16-le"))
    info = info[4 + n:]
PYEOF
) || fail "cannot decode the NTLM challenge '$type2'"
expect_match '^target CORP$' "$names" "the challenge's target name"
expect_match '^netbios-domain CORP$' "$names" "the challenge's target information"
expect_match '^netbios-host PROXY1$' "$names" "the challenge's target information"

for who in 'CORP\alice' 'OTHER\alice' alice; do
	expect_status 200 --proxy-ntlm -U "$who:secret" "http://www.origin.test:$WEB/hello"
done
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello OTHER\\\\alice "
pinhole_stop
