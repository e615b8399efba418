#!/bin/sh
# `Proxy-Authorization: Foo bar` names a scheme pinhole does not offer: 407
# listing the configured schemes (Basic, then NTLM, as configured), and the
# error log (log-level info) says the client used an unconfigured scheme.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level info
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
auth ntlm users $T/users.ntlm
allow all
EOF

expect_status 407 -H 'Proxy-Authorization: Foo bar' "http://www.origin.test:$WEB/hello"
expect_eq "Basic NTLM" "$(sed -n 's/^Proxy-Authenticate: \([A-Za-z]*\).*/\1/p' <<<"$HEADERS" | xargs)" \
	"schemes offered, in order"
expect_eq "Proxy authentication required: the credentials were refused." "$BODY" "407 body"
expect_status 407 -H 'Proxy-Authorization: Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg' "http://www.origin.test:$WEB/hello"
expect_eq "Basic NTLM" "$(sed -n 's/^Proxy-Authenticate: \([A-Za-z]*\).*/\1/p' <<<"$HEADERS" | xargs)" \
	"schemes offered after an unconfigured Negotiate"
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
eventually 5 grep -q 'Foo scheme, which is not configured' "$T/error.log" ||
	fail "the error log does not name the Foo scheme: $(cat "$T/error.log")"
expect_no_match 'bar' "$(grep -i foo "$T/error.log")" "error log"
pinhole_stop
