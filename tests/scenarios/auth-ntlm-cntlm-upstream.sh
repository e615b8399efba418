#!/bin/sh
# cntlm (the NTLM-authenticating proxy many Linux desktops use), configured
# with CORP\alice's password and `Auth NTLMv2`, in front of pinhole: a plain
# curl through cntlm gets 200 and pinhole logs the request as CORP\alice.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

CNTLM=$(PATH=$PATH:/usr/sbin:/sbin command -v cntlm) || skip "needs cntlm (apt-get install cntlm)"
printf 'secret\n' | "$PINHOLE" passwd --ntlm alice --domain CORP >"$T/users.ntlm" ||
	fail "pinhole passwd --ntlm failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth ntlm users $T/users.ntlm
allow all
EOF

CNTLM_PORT=$(free_port)
cat >"$T/cntlm.conf" <<EOF
Username	alice
Domain		CORP
Password	secret
Auth		NTLMv2
Proxy		127.0.0.1:$PH_PORT
Listen		127.0.0.1:$CNTLM_PORT
EOF
spawn cntlm "$CNTLM" -f -c "$T/cntlm.conf"
eventually 10 port_listening "$CNTLM_PORT" || fail "cntlm does not listen on $CNTLM_PORT: $(cat "$T/cntlm.err")"

out=$(curl -q -sS --max-time 15 -x "http://127.0.0.1:$CNTLM_PORT" "http://www.origin.test:$WEB/hello" 2>&1)
expect_eq "hello from the origin" "$out" "curl through cntlm"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello CORP\\\\alice HIER_DIRECT/127\.0\.0\.1 "
out=$(curl -q -sS --max-time 15 -x "http://127.0.0.1:$CNTLM_PORT" --cacert "$T/ca.pem" \
	"https://www.origin.test:$TLS/hello" 2>&1)
expect_eq "hello from the origin" "$out" "curl through cntlm, https"
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS CORP\\\\alice "
pinhole_stop
