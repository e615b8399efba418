#!/bin/sh
# Digest and NTLM credentials never reach a log either, even at log-level
# debug and when refused: no Proxy-Authorization token, Digest response, HA1,
# NT hash or password appears in the access or error log.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'Dig3st-pw-42\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
printf 'Ntlm-pw-42\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level debug
hosts-file $T/hosts
auth digest file $T/users.digest
auth ntlm users $T/users.ntlm
allow all
EOF

url=http://www.origin.test:$WEB/hello
: >"$T/sent"
for try in "200 --proxy-digest -U alice:Dig3st-pw-42" "407 --proxy-digest -U alice:Wrong-pw-42" \
	"200 --proxy-ntlm -U CORP\\alice:Ntlm-pw-42" "407 --proxy-ntlm -U CORP\\alice:Wrong-pw-42"; do
	# shellcheck disable=SC2086 # the words are curl's arguments
	expect_status $try -v "$url"
	grep '^> Proxy-Authorization: ' "$T/last.curlerr" >>"$T/sent"
done
log_line_matching " TCP_MISS/200 [0-9]+ GET $url alice "
log_line_matching " TCP_MISS/200 [0-9]+ GET $url CORP\\\\alice "
pinhole_stop

# What went over the wire: NTLM tokens whole, Digest response values; and the
# stored hashes and the passwords.
{
	sed -n 's/^> Proxy-Authorization: NTLM \([^[:space:]]*\).*/\1/p' "$T/sent"
	sed -n 's/^> Proxy-Authorization: Digest .*response="\([0-9a-f]*\)".*/\1/p' "$T/sent"
	cut -d: -f3,4 "$T/users.digest" | tr : '\n'
	cut -d: -f2 "$T/users.ntlm"
	printf '%s\n' Dig3st-pw-42 Wrong-pw-42 Ntlm-pw-42
} | sed '/^$/d' >"$T/secrets"
expect_eq 12 "$(wc -l <"$T/secrets" | tr -d ' ')" "secrets to look for (4 NTLM tokens, 2 responses, 3 hashes, 3 passwords)"
for f in "$T/access.log" "$T/error.log" "$T/pinhole.err" "$T/pinhole.out"; do
	[ -e "$f" ] || continue
	if grep -F -f "$T/secrets" "$f" >"$T/found"; then
		fail "${f##*/} holds credentials: $(cat "$T/found")"
	fi
done
