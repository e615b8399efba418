#!/bin/sh
# An origin connection that carried NTLM (or answered with an NTLM or
# Negotiate challenge) belongs to its client connection for its whole life:
# after alice authenticated to an intranet origin and left, bob on his own
# connection, without credentials, gets the origin's 401, not alice's page.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 intranet.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

url="http://intranet.test:$WEB/ntlm"
# alice: the challenge, then her credentials on the same connection.
raw send "GET $url HTTP/1.1\r\nHost: intranet.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 401 [^\r]*\r\n(.*\r\n)*\r\nwho are you\?\n' \
	send "GET $url HTTP/1.1\r\nHost: intranet.test:$WEB\r\nAuthorization: NTLM TlRMTVNTUAADAAAA\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n(.*\r\n)*\r\nwhoami=alice\n' \
	send "GET $url HTTP/1.1\r\nHost: intranet.test:$WEB\r\n\r\n" \
	expect '^HTTP/1\.1 200 [^\r]*\r\n(.*\r\n)*\r\nwhoami=alice\n'
# bob, on his own connections, several times (two workers, one pool each).
for i in 1 2 3 4; do
	expect_status 401 "$url"
	expect_eq "who are you?" "$BODY" "what bob sees (request $i)"
done
# Ordinary origin connections are still pooled and reused: five requests,
# one after the other, use at most one origin connection per worker.
seen=""
for i in 1 2 3 4 5; do
	expect_status 200 "http://intranet.test:$WEB/conn"
	seen="$seen$BODY
"
done
distinct=$(printf '%s' "$seen" | sort -u | grep -c .)
[ "$distinct" -le 2 ] || fail "a plain origin connection is not reused: $(echo $seen)"
pinhole_stop
