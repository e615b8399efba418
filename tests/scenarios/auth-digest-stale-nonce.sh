#!/bin/sh
# A Digest nonce is good for `auth digest nonce-ttl` only: the right answer
# with an expired nonce gets 407 with a fresh challenge marked stale=true (so
# browsers retry without asking), and the fresh nonce works.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

# digest CMD...: a Digest client that can wait between legs and reuse a
# nonce (tests/lib/digest_client.py says how to call it).
digest() {
	"$PY" "$PH_LIB/digest_client.py" "$@"
}

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
auth digest nonce-ttl 2s
allow all
EOF

url=http://www.origin.test:$WEB/hello
read -r nonce opaque <<<"$(digest challenge "$PH_PORT" "$url")"
expect_match '^200 - hello from the origin$' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000001)" \
	"answer with a fresh nonce"
sleep 3
expect_match '^407 stale ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000002)" \
	"answer with the expired nonce"
# With a wrong password an expired nonce gets no stale=true: the client
# must ask its user.
expect_match '^407 - ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000003 wrong)" \
	"wrong password with the expired nonce"
read -r nonce2 opaque2 <<<"$(digest challenge "$PH_PORT" "$url")"
expect_match '^200 - hello from the origin$' "$(digest answer "$PH_PORT" "$url" "$nonce2" "$opaque2" 00000001)" \
	"answer with the next fresh nonce"
expect_eq 2 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
pinhole_stop
