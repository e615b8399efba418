#!/bin/sh
# Domain patterns: `example.test` is that name only, `*.example.test` its
# subdomains but not the apex, `.example.test` the apex and all subdomains;
# matching ignores case and a trailing dot, for GET and CONNECT alike.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 exact.test www.exact.test sub.test a.sub.test \
	b.a.sub.test tree.test x.tree.test y.x.tree.test nottree.test \
	other.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow domain exact.test
allow domain *.sub.test
allow domain .tree.test
deny all
EOF

allowed() {
	expect_status 200 "http://$1:$WEB/hello"
}
denied() {
	expect_status 403 "http://$1:$WEB/hello"
	expect_match_i 'denied' "$BODY" "403 body for $1"
}

allowed exact.test
allowed EXACT.Test
allowed exact.test.
denied www.exact.test

allowed a.sub.test
allowed b.a.sub.test
allowed A.SUB.TEST
denied sub.test

allowed tree.test
allowed x.tree.test
allowed y.x.tree.test
allowed x.tree.test.
denied nottree.test
denied other.test

# CONNECT goes through the same rules.
expect_status 200 -p "http://x.tree.test:$WEB/hello"
expect_status 403 -p "http://sub.test:$WEB/hello"
expect_status 403 -p "http://nottree.test:$WEB/hello"
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT sub\.test:$WEB "
pinhole_stop
