#!/bin/sh
# Details of hostile requests: a method longer than the 23 characters rules
# and logs keep gets 501 and is never forwarded; CONNECT targets shaped like
# URLs are refused with what is wrong with them; client bytes that are not
# printable ASCII reach the error log escaped (\xNN), never raw.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
cat >"$T/users" <<EOF
alice:{SHA}$(printf 'secret' | openssl dgst -sha1 -binary | base64)
EOF
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
log-level info
hosts-file $T/hosts
auth basic htpasswd $T/users
allow method GET
deny all
EOF

long=GETGETGETGETGETGETGETGETX
raw send "$long http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 501 [^\r]*\r\n(.*\r\n)*\r\nThe request method is longer than 23 characters' eof
expect_eq 0 "$(origin_count WEB)" "requests the origin received"

raw send "CONNECT www.origin.test:443/path HTTP/1.1\r\nHost: x\r\n\r\n" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n(.*\r\n)*\r\n.*a path, query or fragment is not allowed after host:port' eof
raw send "CONNECT user:pw@www.origin.test:443 HTTP/1.1\r\nHost: x\r\n\r\n" \
	expect '^HTTP/1\.1 400 [^\r]*\r\n(.*\r\n)*\r\n.*user information \(user:password@\) is not allowed' eof

# An unknown scheme with a tab and Latin-1 bytes.
raw send "GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Sch\xe9m\xff\te abc\r\nConnection: close\r\n\r\n" \
	expect '^HTTP/1\.1 407 ' eof
error=$(cat "$T/pinhole.err")
expect_match 'Sch\\xe9m\\xff\\x09e' "$error" "the error log"
if LC_ALL=C grep -q "$(printf '\033')" "$T/pinhole.err" || LC_ALL=C grep -q "$(printf '\351')" "$T/pinhole.err"; then
	fail "raw client bytes in the error log: $(cat -v "$T/pinhole.err")"
fi
pinhole_stop
