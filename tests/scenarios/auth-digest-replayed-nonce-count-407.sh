#!/bin/sh
# A Digest answer replayed with a nonce count already used is refused (407,
# stale=true, so an honest client retries with a new nonce); a higher count
# on the same nonce is accepted.
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
allow all
EOF

url=http://www.origin.test:$WEB/hello
read -r nonce opaque <<<"$(digest challenge "$PH_PORT" "$url")"
expect_match '^200 - ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000001)" "nc=1, first use"
expect_match '^407 stale ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000001)" "nc=1 replayed"
expect_match '^200 - ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000002)" "nc=2"
expect_match '^407 stale ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000002)" "nc=2 replayed"
expect_eq 2 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
pinhole_stop
