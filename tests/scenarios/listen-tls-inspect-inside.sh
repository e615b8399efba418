#!/bin/sh
# TLS inspection inside an HTTPS proxy listener's TLS: curl --proxy
# https://proxy.test:PORT trusting the listener's CA for the proxy and
# pinhole's inspection CA for the origin gets the page through an inspected
# session that runs inside the proxy session (TLS inside TLS); a large
# upload and download go through both intact, the access log has the inner
# https:// requests, and a client trusting only the origin's CA is refused
# (it sees the minted certificate).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_LIB/https_proxy.sh"

make_pinhole_ca
make_proxy_cert
start_tls_origin WEB www.inspect.test
hosts_entry 127.0.0.1 www.inspect.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT tls $PXY_CRT $PXY_KEY
access-log $T/access.log json
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
allow all
EOF

expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/hello"
expect_eq "hello from the origin" "$BODY" "body through the inspected session inside the proxy's TLS"
origin_saw WEB '^conn-[0-9]+ GET /hello$'
log_line_matching '"status":200,.*"method":"GET","url":"https://www\.inspect\.test:'"$WEB"'/hello",.*"client_tls":true\}$'
log_line_matching '"result":"TCP_TUNNEL","status":200,.*"method":"CONNECT",.*"mime":"tls-inspected",.*"client_tls":true\}$'

# Trusting the origin's CA only: what came through is pinhole's minted
# certificate, which curl refuses with the alert unknown_ca, after the
# proxy's TLS was fine.  (curl 7.88 then reports its own failure as 35
# SSL_ERROR_SYSCALL rather than 60 through an HTTPS proxy: its proxy
# session's write clears the error queue the inner session's reason is in.)
out=$(pcurl -v -o /dev/null --cacert "$T/ca.pem" "https://www.inspect.test:$WEB/hello" 2>&1)
rc=$?
[ "$rc" = 60 ] || [ "$rc" = 35 ] || fail "curl trusting the origin's CA only exited $rc (expected 60 or 35): $out"
expect_match 'SSL certificate verify ok' "$out" "curl's check of the proxy's certificate"
expect_match '\(OUT\), TLS alert, unknown CA' "$out" "curl's answer to the minted certificate"
error_log_matching 'a client refused the minted certificate for www\.inspect\.test with a certificate alert'
log_line_matching '"mime":"tls-inspected","error":"pinning failure: the client sent the alert \\"unknown CA\\"'

# Two requests in one inspected session, then 3 MB each way.
out=$(pcurl --cacert "$PCA_CRT" -o /dev/null -o /dev/null -w '%{num_connects} ' \
	"https://www.inspect.test:$WEB/hello" "https://www.inspect.test:$WEB/hello")
expect_eq "1 0 " "$out" "connections curl opened for two requests through the inspected session"
expect_status 200 --cacert "$PCA_CRT" "https://www.inspect.test:$WEB/bytes/3000000"
expect_eq 3000000 "$(stat -c %s "$T/last.body")" "bytes of the download through both sessions"
head -c 3000000 /dev/urandom >"$T/upload.bin"
sum=$(sha256sum "$T/upload.bin" | cut -d' ' -f1)
expect_status 200 --cacert "$PCA_CRT" --data-binary "@$T/upload.bin" "https://www.inspect.test:$WEB/echo"
expect_match "\"body_length\": 3000000, \"body_sha256\": \"$sum\"" "$BODY" "what the origin received of the upload"
pinhole_stop
