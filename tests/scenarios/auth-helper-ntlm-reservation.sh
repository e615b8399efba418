#!/bin/sh
# An NTLM handshake holds one helper child from its Type 1 to its Type 3.
# With `children 1`, a client that sends a Type 1 and goes quiet holds the
# only child: a second client's handshake gets a 502 saying every helper is
# busy, until `reservation-timeout` gives the child back; then the second
# client gets through, and the stalled handshake's Type 3 is refused (407).
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

helper=/usr/lib/squid/ntlm_fake_auth
[ -x "$helper" ] || skip "Squid's ntlm_fake_auth is not installed (Debian package squid)"
curl -V | grep -q NTLM || skip "needs a curl built with NTLM"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
workers 1
auth ntlm helper "$helper" children 1 reservation-timeout 2s
allow all
EOF

# A Type 1 (NEGOTIATE_UNICODE | NTLM | ...), then silence for 4 s, then a
# Type 3 on the same connection.
cat >"$T/stall.py" <<EOF
import socket, sys, time
s = socket.create_connection(("127.0.0.1", $PH_PORT))
t1 = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw=="
s.sendall(("GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test\r\n"
           "Proxy-Authorization: NTLM " + t1 + "\r\n\r\n").encode())
head = s.recv(65536).decode("latin-1")
print(head.split("\r\n")[0], flush=True)
time.sleep(4)
t3 = "TlRMTVNTUAADAAAAGAAYAEAAAAAYABgAWAAAAAAAAABwAAAACgAKAHAAAAAIAAgAegAAAAAAAACCAAAABYIIAA" \
     "=="
s.sendall(("GET http://www.origin.test:$WEB/hello HTTP/1.1\r\nHost: www.origin.test\r\n"
           "Proxy-Authorization: NTLM " + t3 + "\r\n\r\n").encode())
print(s.recv(65536).decode("latin-1").split("\r\n")[0], flush=True)
EOF
"$PY" "$T/stall.py" >"$T/stall.out" 2>&1 &
stall=$!
eventually 5 test -s "$T/stall.out" || fail "the stalling client got no answer"
expect_match '^HTTP/1.1 407' "$(head -1 "$T/stall.out")" "Type 2 for the stalling client"

expect_status 502 --proxy-ntlm -U 'EXAMPLE\bob:pw' "http://www.origin.test:$WEB/hello"
expect_match 'Proxy authentication \(NTLM\) is broken' "$BODY" "502 body while the only child is held"
log_line_matching "NTLM authentication is broken: NTLM helper: every helper child is busy" "$T/error.log"

sleep 2.5
expect_status 200 --proxy-ntlm -U 'EXAMPLE\bob:pw' "http://www.origin.test:$WEB/hello"
wait "$stall"
expect_match '^HTTP/1.1 407' "$(sed -n 2p "$T/stall.out")" "the stalled handshake's Type 3 after its reservation ended"
pinhole_stop
