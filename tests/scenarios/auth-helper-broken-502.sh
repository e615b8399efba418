#!/bin/sh
# A Basic helper that goes wrong never lets anyone in and never hangs a
# client: BH, garbage, a crash and silence (past `timeout`) each give a 502
# whose body says proxy authentication is broken, the error log says how, the
# helper is started again, and the next good request passes.  A wrong
# password (ERR) stays a 407.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

# One answer per user name, in Squid's basic helper protocol.
cat >"$T/helper.sh" <<'EOF'
#!/bin/sh
while read -r user pass; do
	case $user in
	alice) echo OK ;;
	bh) echo "BH message=backend%20down" ;;
	garbage) echo "WHAT?" ;;
	die) exit 3 ;;
	slow) sleep 30 ;;
	*) echo "ERR message=unknown%20user" ;;
	esac
done
EOF
chmod 755 "$T/helper.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
error-log $T/error.log
hosts-file $T/hosts
workers 1
auth basic helper "$T/helper.sh" children 1 timeout 2s cache 0
allow all
EOF

url="http://www.origin.test:$WEB/hello"
expect_status 200 --proxy-basic -U alice:pw "$url"
expect_status 407 --proxy-basic -U mallory:pw "$url"

for who in bh garbage die slow; do
	expect_status 502 --proxy-basic -U "$who:pw" "$url"
	expect_match 'Proxy authentication \(Basic\) is broken' "$BODY" "502 body for $who"
	# The child is started again (at most once a second).
	sleep 1.1
	expect_status 200 --proxy-basic -U alice:pw "$url"
done
log_line_matching "Basic authentication is broken: Basic helper: backend down" "$T/error.log"
log_line_matching "Basic authentication is broken: .*(unknown|garbage|WHAT)" "$T/error.log"
log_line_matching "Basic authentication is broken: .*(exited|status 3)" "$T/error.log"
log_line_matching "Basic authentication is broken: .*(did not answer|timed out|2000 ms)" "$T/error.log"
pinhole_stop
