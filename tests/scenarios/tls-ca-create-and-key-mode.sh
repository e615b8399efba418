#!/bin/sh
# `pinhole ca create DIR` makes a CA certificate (ca.crt, CA:TRUE) and its
# key (ca.key, mode 0600), and refuses to overwrite them.  A CA key others
# can read is refused: `pinhole validate` names the tls-inspect line
# (FILE:LINE) and says to chmod 600, and `pinhole run` does not start.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

run_pinhole ca create "$T/pca"
expect_eq 0 "$RC" "pinhole ca create exit status (stderr: $ERR)"
[ -s "$T/pca/ca.crt" ] && [ -s "$T/pca/ca.key" ] ||
	fail "pinhole ca create made no ca.crt/ca.key: $(ls -l "$T/pca" 2>&1)"
expect_eq 600 "$(stat -c %a "$T/pca/ca.key")" "mode of ca.key"
text=$(openssl x509 -in "$T/pca/ca.crt" -noout -text 2>&1)
expect_match 'CA:TRUE' "$text" "basicConstraints of ca.crt"
expect_match 'Certificate Sign' "$text" "keyUsage of ca.crt"
[ "$(openssl x509 -in "$T/pca/ca.crt" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum)" = \
	"$(openssl pkey -in "$T/pca/ca.key" -pubout -outform der | sha256sum)" ] ||
	fail "ca.key is not the key of ca.crt"
openssl verify -CAfile "$T/pca/ca.crt" "$T/pca/ca.crt" >"$T/verify.out" 2>&1 ||
	fail "ca.crt is not a valid self-signed CA: $(cat "$T/verify.out")"

# A second create into the same directory leaves both files as they were.
sum=$(cat "$T/pca/ca.crt" "$T/pca/ca.key" | sha256sum)
run_pinhole ca create "$T/pca"
[ "$RC" != 0 ] || fail "pinhole ca create over an existing CA exited 0: $OUT"
expect_match 'refus|exists' "$ERR" "pinhole ca create over an existing CA"
expect_eq "$sum" "$(cat "$T/pca/ca.crt" "$T/pca/ca.key" | sha256sum)" "ca.crt and ca.key after the second create"

# The good key: validate accepts it.
cat >"$T/inspect.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
tls-inspect ca $T/pca/ca.crt $T/pca/ca.key
allow all
EOF
run_pinhole validate -c "$T/inspect.conf"
expect_eq 0 "$RC" "pinhole validate with ca.key mode 600 (stderr: $ERR)"

# Readable by others: refused by validate and by run.
chmod 644 "$T/pca/ca.key"
run_pinhole validate -c "$T/inspect.conf"
expect_eq 1 "$RC" "pinhole validate with ca.key mode 644 (stdout: $OUT)"
expect_match "$T/inspect\.conf:3: .*chmod 600" "$ERR" "validate's error for ca.key mode 644"
run_pinhole run -c "$T/inspect.conf"
[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "pinhole run with ca.key mode 644 exited $RC (expected a refusal)"
expect_match "chmod 600" "$ERR" "pinhole run's error for ca.key mode 644"
port_listening "$PH_PORT" && fail "something listens on $PH_PORT although pinhole refused to start"

# Fixed: it starts.
chmod 600 "$T/pca/ca.key"
pinhole_start <"$T/inspect.conf"
pinhole_stop
