#!/bin/sh
# An NTLM type 3 message (the answer) on a connection that never got a
# challenge is refused with 407 and a fresh NTLM challenge; the connection
# stays usable and a real handshake afterwards succeeds.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

curl -V | grep -q NTLM || skip "needs a curl built with NTLM"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

# A type 3 that curl made for CORP\alice:secret, answering another proxy's
# challenge.
type3=TlRMTVNTUAADAAAAGAAYAEAAAAB0AHQAWAAAAAQABADMAAAABQAFANAAAAALAAsA1QAAAAAAAAAAAAAABoKJAF4G10sqsw6Bt7JAKBo6PUzzTW8+9OitLHqyfpDYs0o+4QWiINT5gfABAQAAAAAAAIC/QtR9ed0B801vPvTorSwAAAAAAgAOAFAASQBOAEgATwBMAEUAAQAEAFYATQAEAA4AcABpAG4AaABvAGwAZQADAAQAdgBtAAcACADQlL3UfXndAQAAAAAAAAAAQ09SUGFsaWNlV09SS1NUQVRJT04=
get="GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test:$WEB\r\n"
raw send "${get}Proxy-Authorization: NTLM $type3\r\n\r\n" \
	expect '^HTTP/1\.1 407 [^\r]*\r\n' expect 'Proxy-Authenticate: NTLM\r\n' \
	expect '\r\n\r\nProxy authentication required: the credentials were refused\.\n' \
	quiet 0.3 \
	send "$get\r\n" expect '^HTTP/1\.1 407 [^\r]*\r\n' expect 'required\.\n'
expect_eq 0 "$(origin_count WEB)" "requests the origin saw"
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
no_log_line_matching 'CORP'

expect_status 200 --proxy-ntlm -U 'CORP\alice:secret' "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello CORP\\\\alice "
pinhole_stop
