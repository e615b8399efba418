#!/bin/sh
# With `auth digest file FILE` and a file made by Apache's htdigest (MD5 only),
# the 407 offers Digest with algorithm=MD5 alone, and curl --proxy-digest with
# alice's password gets the page, logged as alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

command -v htdigest >/dev/null || skip "needs htdigest (apt-get install apache2-utils)"
# htdigest reads the password twice from the terminal, or from stdin when
# it has none (setsid).
printf 'secret\nsecret\n' | timeout 10 setsid -w htdigest -c "$T/users.digest" pinhole alice \
	>"$T/htdigest.out" 2>&1 || fail "htdigest failed: $(cat "$T/htdigest.out")"
expect_match '^alice:pinhole:[0-9a-f]{32}$' "$(cat "$T/users.digest")" "htdigest output"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
allow all
EOF

expect_status 407 "http://www.origin.test:$WEB/hello"
expect_match '^Proxy-Authenticate: Digest realm="pinhole", .*algorithm=MD5' "$HEADERS" "407 headers"
expect_match 'nonce="[^"]+"' "$HEADERS" "407 headers"
expect_eq 1 "$(grep -ci '^Proxy-Authenticate:' <<<"$HEADERS")" "Proxy-Authenticate headers"

expect_status 200 --proxy-digest -U alice:secret "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice HIER_DIRECT/"
pinhole_stop
