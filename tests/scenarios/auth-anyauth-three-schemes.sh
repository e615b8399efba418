#!/bin/sh
# With Basic, Digest and NTLM configured (in that order) the 407 carries one
# Proxy-Authenticate per scheme in that order; curl --proxy-anyauth picks one
# of them (Digest, the strongest it knows here) and gets the page as alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
# MD5 only (as htdigest writes it): one Digest challenge.
printf 'secret\n' | "$PINHOLE" passwd --digest alice | cut -d: -f1-3 >"$T/users.digest"
expect_match '^alice:pinhole:[0-9a-f]{32}$' "$(cat "$T/users.digest")" "the digest file"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
auth digest file $T/users.digest
auth ntlm users $T/users.ntlm
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_eq "Basic Digest NTLM" \
	"$(sed -n 's/^Proxy-Authenticate: \([A-Za-z]*\).*/\1/p' <<<"$HEADERS" | xargs)" \
	"schemes offered, in order"

expect_status 200 -v --proxy-anyauth -U alice:secret "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
expect_match '^> Proxy-Authorization: Digest ' "$(cat "$T/last.curlerr")" "the scheme curl picked"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice HIER_DIRECT/"

# Each scheme on its own works too.
expect_status 200 --proxy-basic -U alice:secret "http://www.origin.test:$WEB/hello"
expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello CORP\\\\alice HIER_DIRECT/"
pinhole_stop
