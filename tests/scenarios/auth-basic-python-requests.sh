#!/bin/sh
# python-requests with Basic credentials in the proxy URL
# (http://alice:secret@proxy:port) gets the page, over plain HTTP and through
# a CONNECT tunnel; without them it sees 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

"$PY" -c 'import requests' 2>/dev/null || skip "needs python3-requests (apt-get install python3-requests)"
printf 'secret\n' | "$PINHOLE" passwd --basic alice >"$T/users.htpasswd" ||
	fail "pinhole passwd --basic failed"
start_origin WEB http
start_tls_origin TLS www.origin.test
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
auth basic htpasswd $T/users.htpasswd
allow all
EOF

# requests.get(URL, proxies=...) with the proxy URL given; prints the status
# and the body, or the exception's class (a refused CONNECT raises one).
get() {
	"$PY" - "$@" <<'PYEOF'
import sys, requests
proxy, url, ca = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    r = requests.get(url, proxies={"http": proxy, "https": proxy}, verify=ca, timeout=10)
    print(r.status_code, r.text.strip())
except requests.exceptions.ProxyError as e:
    print("ProxyError", e)
PYEOF
}

expect_eq "200 hello from the origin" \
	"$(get "http://alice:secret@127.0.0.1:$PH_PORT" "http://www.origin.test:$WEB/hello" "$T/ca.pem")" \
	"python-requests, plain HTTP"
expect_eq "200 hello from the origin" \
	"$(get "http://alice:secret@127.0.0.1:$PH_PORT" "https://www.origin.test:$TLS/hello" "$T/ca.pem")" \
	"python-requests, https through CONNECT"
expect_match '^407 Proxy authentication required\.$' \
	"$(get "http://127.0.0.1:$PH_PORT" "http://www.origin.test:$WEB/hello" "$T/ca.pem")" \
	"python-requests without credentials"
log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello alice "
log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.origin\.test:$TLS alice "
log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello - "
pinhole_stop
