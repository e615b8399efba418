#!/bin/sh
# Several pinholes (behind a load balancer) share one state-dir: a domain
# one instance learns as pinned is spliced by the others within seconds,
# without a reload; what two instances learn ends up in the one list (each
# reads the other's before writing); and a line the admin deletes is
# inspected again by all of them.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"

make_pinhole_ca
start_tls_origin WEB www.inspect.test two.inspect.test
PIN=$(key_pin)
hosts_entry 127.0.0.1 www.inspect.test two.inspect.test
mkdir "$T/state"
B=$(free_port)
conf() {
	cat <<EOF
listen 127.0.0.1:$1
access-log $2 squid
hosts-file $T/hosts
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
pinning-learn on
log-level info
state-dir $T/state
allow all
EOF
}
pinhole_start < <(conf "$PH_PORT" "$T/access.log")
conf "$B" "$T/b-access.log" >"$T/b.conf"
spawn pinhole-b "$PINHOLE" run -c "$T/b.conf"
eventually 10 port_listening "$B" || fail "the second pinhole does not listen on $B: $(cat "$T/pinhole-b.err")"

# refuse PROXY HOST [CURL ARGS]: a client trusting only the origin's CA
# refuses the minted certificate with a certificate alert.
refuse() {
	local proxy=$1 host=$2
	shift 2
	curl -q -sS --max-time 15 -x "$proxy" --cacert "$T/ca.pem" "$@" "https://$host:$WEB/hello" >/dev/null \
		2>"$T/refuse.curlerr"
	expect_eq 60 "$?" "a refusal of the minted certificate for $host (exit 60; $(cat "$T/refuse.curlerr"))"
}
# spliced PROXY HOST LOG: a pinned client gets the origin's own certificate.
spliced() {
	local n
	n=$(grep -c " CONNECT $2:$WEB .* tls-spliced-learned$" "$3")
	PROXY=$1 pin_curl "$PIN" "https://$2:$WEB/hello"
	[ "$CURL_RC" = 0 ] && [ "$(grep -c " CONNECT $2:$WEB .* tls-spliced-learned$" "$3")" -gt "$n" ]
}

# Learned by the first instance...
refuse "$PROXY" www.inspect.test
refuse "$PROXY" www.inspect.test --interface 127.0.0.2
error_log_matching "pinning: www\.inspect\.test learned as certificate-pinned"
# ...spliced by the second within seconds.
eventually 6 spliced "http://127.0.0.1:$B" www.inspect.test "$T/b-access.log" ||
	fail "the second pinhole does not splice www.inspect.test learned by the first (curl $CURL_RC: $CURL_ERR)"
log_line_matching "pinning: $T/state/learned-no-inspect changed .*: 1 learned domains" "$T/pinhole-b.err"

# Learned by the second: both domains are in the list, and the first
# splices the second's.
refuse "http://127.0.0.1:$B" two.inspect.test
refuse "http://127.0.0.1:$B" two.inspect.test --interface 127.0.0.2
log_line_matching "pinning: two\.inspect\.test learned as certificate-pinned" "$T/pinhole-b.err"
list=$(grep -v '^#' "$T/state/learned-no-inspect" | cut -d' ' -f1 | sort | tr '\n' ' ')
expect_eq "two.inspect.test www.inspect.test " "$list" "the domains in $T/state/learned-no-inspect"
eventually 6 spliced "$PROXY" two.inspect.test "$T/access.log" ||
	fail "the first pinhole does not splice two.inspect.test learned by the second (curl $CURL_RC: $CURL_ERR)"

# The admin deletes a line: every instance inspects that domain again.
sed -i '/^www\.inspect\.test /d' "$T/state/learned-no-inspect"
inspected() {
	PROXY=$1 pin_curl "$PIN" "https://www.inspect.test:$WEB/hello"
	[ "$CURL_RC" = 90 ]
}
eventually 6 inspected "$PROXY" || fail "the first pinhole still splices www.inspect.test (curl $CURL_RC)"
eventually 6 inspected "http://127.0.0.1:$B" || fail "the second pinhole still splices www.inspect.test (curl $CURL_RC)"
spliced "$PROXY" two.inspect.test "$T/access.log" || fail "two.inspect.test is no longer spliced"
pinhole_stop
