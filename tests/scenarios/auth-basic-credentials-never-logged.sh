#!/bin/sh
# The access log names the Basic user (squid and JSON formats) but no log,
# even at log-level debug, holds a password or the base64 of user:password,
# whether the password was right or wrong.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

printf 'Tr0ub4dor-and-3\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
log-level debug
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

expect_status 200 --proxy-basic -U alice:Tr0ub4dor-and-3 "http://www.origin.test:$WEB/hello"
expect_status 200 --proxy-basic -U alice:Tr0ub4dor-and-3 --cacert "$T/ca.pem" "https://www.origin.test:$TLS/hello"
expect_status 407 --proxy-basic -U alice:Wr0ng-Guess-77 "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice "
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
pinhole_stop

# The same with the JSON access log.
sed "s|^access-log .*|access-log $T/access.json json|" "$T/pinhole.conf" >"$T/json.conf"
pinhole_start <"$T/json.conf"
expect_status 200 --proxy-basic -U alice:Tr0ub4dor-and-3 "http://www.origin.test:$WEB/hello"
expect_status 407 --proxy-basic -U alice:Wr0ng-Guess-77 "http://www.origin.test:$WEB/hello"
log_line_matching '"user": ?"alice"' "$T/access.json"
log_line_matching '"status": ?407' "$T/access.json"
pinhole_stop

secrets='Tr0ub4dor-and-3|Wr0ng-Guess-77'
secrets="$secrets|$(printf 'alice:Tr0ub4dor-and-3' | base64)|$(printf 'alice:Wr0ng-Guess-77' | base64)"
for f in "$T"/access.log "$T"/access.json "$T"/error.log "$T"/pinhole.err "$T"/pinhole.out; do
	[ -e "$f" ] || continue
	expect_no_match "$secrets" "$(cat "$f")" "${f##*/}"
done
