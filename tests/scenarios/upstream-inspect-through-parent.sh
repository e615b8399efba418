#!/bin/sh
# Through a parent the tunnel is only carried: TLS inspection still mints
# its certificate and logs each inner request (hierarchy FIRSTUP_PARENT),
# quirks still shape pinhole's own answers (quirk http10-connect: the
# client's 200 is HTTP/1.0 whatever the parent said), and the parent sees
# one CONNECT, authenticated as pinhole.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/upstream.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test
hosts_entry 127.0.0.1 www.inspect.test
printf 'secret\n' | "$PINHOLE" passwd --basic bob >"$T/parent.htpasswd" || fail "pinhole passwd failed"
P=$(free_port)
parent_pinhole_start P <<EOF
listen 127.0.0.1:$P
access-log $T/parent-access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/parent.htpasswd
allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
quirk http10-connect
upstream-proxy http://bob:secret@127.0.0.1:$P
allow all
EOF

expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through the inspected session through the parent"
expect_match '^HTTP/1\.0 200 Connection established$' "$HEADERS" "the CONNECT answer (quirk http10-connect)"
origin_saw WEB '^conn-[0-9]+ GET /hello$'
log_line_matching " TCP_MISS/200 [0-9]+ GET https://www\.inspect\.test:$WEB/hello - FIRSTUP_PARENT/127\.0\.0\.1 "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inspect\.test:$WEB - FIRSTUP_PARENT/127\.0\.0\.1 tls-inspected$"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.inspect\.test:$WEB bob HIER_DIRECT/" "$T/parent-access.log"
no_log_line_matching " GET https://" "$T/parent-access.log"

# The certificate the client saw is pinhole's, not the origin's.
peer_cert www.inspect.test "$WEB"
expect_eq "$(cert_subject "$PCA_CRT")" "$PEER_ISSUER" "issuer of the certificate seen through pinhole"
pinhole_stop
