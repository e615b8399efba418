#!/bin/sh
# A 1 MB POST without credentials gets its 407 and its body is read and
# dropped, so the same connection then carries the authenticated retry: the
# origin receives the whole 1 MB once, from the retry.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

# The two requests, each with the same 1 MB body (YWxpY2U6c2VjcmV0 is
# alice:secret); the first also as chunks, as browsers send uploads.
"$PY" - "$T" "$WEB" <<'PYEOF'
import hashlib, sys
t, web = sys.argv[1], sys.argv[2]
body = bytes((i * 7 + i // 251) % 256 for i in range(1 << 20))
head = ("POST http://www.origin.test:%s/echo HTTP/1.1\r\nHost: www.origin.test:%s\r\n"
        "Content-Type: application/octet-stream\r\n" % (web, web)).encode()
open(t + "/without.req", "wb").write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                  for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
open(t + "/chunked.req", "wb").write(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
open(t + "/with.req", "wb").write(head + b"Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
                                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
open(t + "/body.sha256", "w").write(hashlib.sha256(body).hexdigest())
PYEOF
sha=$(cat "$T/body.sha256")

for first in without chunked; do
	raw sendfile "$T/$first.req" \
		expect '^HTTP/1\.1 407 [^\r]*\r\n' expect '\r\n\r\nProxy authentication required\.\n' \
		sendfile "$T/with.req" \
		expect '^HTTP/1\.1 200 [^\r]*\r\n' expect '"body_length": 1048576' expect "\"body_sha256\": \"$sha\""
done
expect_eq "2" "$(grep -c ' POST /echo' "$T/WEB.requests")" "POSTs the origin received (one per retry)"
expect_eq 2 "$(grep -c " TCP_DENIED/407 [0-9]* POST http://www\.origin\.test:$WEB/echo - " "$T/access.log")" \
	"407s in the access log"
log_line_matching " TCP_MISS/200 [0-9]+ POST http://www\.origin\.test:$WEB/echo alice "
pinhole_stop
