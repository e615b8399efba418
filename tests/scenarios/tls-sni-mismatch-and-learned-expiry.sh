#!/bin/sh
# The splice-or-inspect decision reads the CONNECT host and the SNI
# together: a CONNECT to one host carrying the SNI of a no-inspect domain
# (domain fronting) is inspected, logged as sni-mismatch and counted; with
# `sni-mismatch deny` it is closed.  Learned pinned domains expire: an entry
# whose last evidence is older than `expire` is inspected again, a recent
# one and one written by hand are kept.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/admin.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test www.pinned.test
hosts_entry 127.0.0.1 www.inspect.test www.pinned.test
mkdir "$T/state"
now=$(date +%s)
cat >"$T/state/learned-no-inspect" <<EOF
# learned long ago, never seen since
www.stale.test 1000 1000 2 2
www.recent.test $((now - 60)) $((now - 60)) 3 2
www.byhand.test
EOF
cat >"$T/run.conf" <<EOF
listen 127.0.0.1:$PH_PORT
admin 127.0.0.1:$ADMIN
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
no-inspect www.pinned.test
pinning-learn on expire 1h
state-dir $T/state
allow all
EOF
pinhole_start <"$T/run.conf"
wait_admin

# The pinned domain by its own name: spliced, the origin's certificate.
peer_cert www.pinned.test "$WEB"
expect_eq "$(cert_subject "$T/ca.pem")" "$PEER_ISSUER" "issuer for CONNECT www.pinned.test (no-inspect)"
# Another host with the pinned domain's SNI: inspected.
peer_cert www.inspect.test "$WEB" www.pinned.test
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer for CONNECT www.inspect.test with SNI www.pinned.test"
log_line_matching " CONNECT www\.inspect\.test:$WEB .* tls-inspected-sni-mismatch$"
error_log_matching "sni-mismatch: 127\.0\.0\.1 sent CONNECT www\.inspect\.test:$WEB with the SNI www\.pinned\.test"
expect_eq 1 "$(admin_metric pinhole_tls_sni_mismatches_total)" "pinhole_tls_sni_mismatches_total"

expect_admin 200 /config
expect_no_match 'www\.stale\.test' "$BODY" "/config (an expired learned domain)"
expect_match '^# learned no-inspect www\.recent\.test \(3 certificate alerts from 2 clients' "$BODY" "/config"
expect_match '^# learned no-inspect www\.byhand\.test ' "$BODY" "/config"
expect_no_match 'www\.stale\.test' "$(cat "$T/state/learned-no-inspect")" "the learned list once expired entries are dropped"

# sni-mismatch deny: such a tunnel is closed.
sed 's|^no-inspect www.pinned.test$|no-inspect www.pinned.test\nsni-mismatch deny|' "$T/run.conf" >"$T/deny.conf"
cp "$T/deny.conf" "$T/pinhole.conf"
pinhole_reload
timeout 15 openssl s_client -proxy "127.0.0.1:$PH_PORT" -connect "www.inspect.test:$WEB" \
	-servername www.pinned.test </dev/null >"$T/s_client.out" 2>&1
expect_no_match 'BEGIN CERTIFICATE' "$(cat "$T/s_client.out")" "what s_client saw with sni-mismatch deny"
log_line_matching " CONNECT www\.inspect\.test:$WEB .* tls-sni-mismatch-denied$"
peer_cert www.inspect.test "$WEB"
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer for a matching SNI with sni-mismatch deny"
pinhole_stop
