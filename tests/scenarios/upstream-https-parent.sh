#!/bin/sh
# `upstream-proxy https://parent:PORT`: TLS to the parent (Squid's
# https_port), its certificate verified against tls-trust and its name.
# Plain HTTP and tunnels go through it; an inspected tunnel runs the
# origin's TLS inside the parent's; a parent whose certificate does not
# name it gets no request (502 saying why).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/upstream.sh"

make_pinhole_ca
make_leaf parent.pinhole.test
cp "$T/leaf.pem" "$T/parent.pem"
cp "$T/leaf.key" "$T/parent.key"
start_origin WEB http
start_tls_origin TLS www.origin.test spliced.origin.test
hosts_entry 127.0.0.1 www.origin.test spliced.origin.test parent.pinhole.test other.test
squid_start PARENT "$T/parent.pem" "$T/parent.key" <<EOF
http_access allow all
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
no-inspect spliced.origin.test
upstream-proxy https://127.0.0.1:$PARENT domain other.test
upstream-proxy https://parent.pinhole.test:$PARENT
allow all
EOF

expect_status 200 "http://www.origin.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through the https:// parent"
squid_log_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - HIER_DIRECT/"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello - FIRSTUP_PARENT/parent\.pinhole\.test "

# Spliced: the origin's certificate, through the parent's TLS.
expect_status 200 --cacert "$T/ca.pem" "https://spliced.origin.test:$TLS/hello"
expect_eq "hello from the origin" "$BODY" "body through the spliced tunnel"
squid_log_matching " TCP_TUNNEL/200 [0-9]+ CONNECT spliced\.origin\.test:$TLS - HIER_DIRECT/"

# Inspected: pinhole's certificate; the origin's TLS inside the parent's.
expect_status 200 --cacert "$PCA_CRT" "https://www.origin.test:$TLS/hello?inspected"
expect_eq "hello from the origin" "$BODY" "body through the inspected tunnel"
origin_saw TLS '^conn-[0-9]+ GET /hello\?inspected$'
log_line_matching " TCP_MISS/200 [0-9]+ GET https://www\.origin\.test:$TLS/hello\?inspected - FIRSTUP_PARENT/parent\.pinhole\.test "

# The certificate names parent.pinhole.test, not 127.0.0.1.
expect_status 502 "http://other.test:$WEB/hello"
expect_match "^The parent proxy 127\.0\.0\.1:$PARENT failed TLS verification: " "$BODY" "502 body"
no_log_line_matching "other\.test" "$SQUID_LOG"
pinhole_stop
