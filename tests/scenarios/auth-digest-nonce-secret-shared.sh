#!/bin/sh
# Two pinhole instances with the same `auth digest nonce-secret FILE` (behind
# one name) accept each other's nonces; one with another secret answers such a
# nonce with a fresh challenge, stale=true, so clients retry at once.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

# digest CMD...: a Digest client that can wait between legs and reuse a
# nonce (tests/lib/digest_client.py says how to call it).
digest() {
	"$PY" "$PH_LIB/digest_client.py" "$@"
}

printf 'secret\n' | "$PINHOLE" passwd --digest alice >"$T/users.digest" ||
	fail "pinhole passwd --digest failed"
head -c 48 /dev/urandom | base64 -w0 >"$T/nonce.secret"
head -c 48 /dev/urandom | base64 -w0 >"$T/other.secret"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
PORT_B=$(free_port)
PORT_C=$(free_port)
# config PORT SECRET-FILE
config() {
	cat <<EOF
listen 127.0.0.1:$1
access-log $T/access.log squid
hosts-file $T/hosts
auth digest file $T/users.digest
auth digest nonce-secret $2
allow all
EOF
}
pinhole_start < <(config "$PH_PORT" "$T/nonce.secret")
config "$PORT_B" "$T/nonce.secret" >"$T/b.conf"
spawn pinhole-b "$PINHOLE" run -c "$T/b.conf"
PH_B=$SPAWNED_PID
config "$PORT_C" "$T/other.secret" >"$T/c.conf"
spawn pinhole-c "$PINHOLE" run -c "$T/c.conf"
PH_C=$SPAWNED_PID
eventually 10 port_listening "$PORT_B" || fail "pinhole B does not listen: $(cat "$T/pinhole-b.err")"
eventually 10 port_listening "$PORT_C" || fail "pinhole C does not listen: $(cat "$T/pinhole-c.err")"

url=http://www.origin.test:$WEB/hello
read -r nonce opaque <<<"$(digest challenge "$PH_PORT" "$url")"
expect_match '^200 - ' "$(digest answer "$PORT_B" "$url" "$nonce" "$opaque" 00000001)" \
	"B (same secret) answered with A's nonce"
expect_match '^200 - ' "$(digest answer "$PH_PORT" "$url" "$nonce" "$opaque" 00000002)" \
	"A answered with its own nonce"
expect_match '^407 stale ' "$(digest answer "$PORT_C" "$url" "$nonce" "$opaque" 00000003)" \
	"C (another secret) answered with A's nonce"
expect_eq 2 "$(origin_count WEB)" "requests the origin saw"
pinhole_stop
PH_PID=$PH_B pinhole_stop
PH_PID=$PH_C pinhole_stop
