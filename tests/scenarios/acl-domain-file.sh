#!/bin/sh
# `deny domain-file FILE` before `allow all`, with a blocklist of 100,000
# lines (names, *.x, .x, an IP network, comments): listed names get 403
# naming the rule, others pass; the file is found relative to the config;
# `pinhole validate` names each bad line of the list as LIST:LINE and
# warns of a rule after one with the same list; SIGHUP
# re-reads the list, and a list broken since keeps the running rules.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

mkdir -p "$T/lists"
{
	echo "# blocklist: generated for this scenario"
	echo ""
	awk 'BEGIN {
		for (i = 0; i < 99990; i++) {
			if (i % 3 == 0) print "ads" i ".block.test"
			else if (i % 3 == 1) print ".track" i ".test   # and its subdomains"
			else print "*.cdn" i ".test"
		}
	}'
	echo "192.0.2.0/24"
	echo "Exact.Block.TEST."
	printf 'crlf.block.test\r\n'
	echo "	 spaced.block.test  "
	echo "last.block.test"
} >"$T/lists/block.txt"
lines=$(wc -l <"$T/lists/block.txt")
[ "$lines" -ge 99995 ] || fail "the generated list has $lines lines"

start_origin WEB http
hosts_entry 127.0.0.1 ads3.block.test ads4.block.test track4.test \
	www.track4.test track7.test cdn5.test a.cdn5.test b.a.cdn5.test \
	exact.block.test crlf.block.test spaced.block.test last.block.test \
	www.origin.test block.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
deny domain-file lists/block.txt
allow all
EOF

allowed() {
	expect_status 200 "http://$1:$WEB/hello"
}
denied() {
	expect_status 403 "http://$1:$WEB/hello"
	expect_match 'pinhole\.conf:4' "$BODY" "403 body for $1 naming the rule"
}

denied ads3.block.test
allowed ads4.block.test # i % 3 == 1: .track4.test, not ads4
denied track4.test
denied www.track4.test
denied TRACK7.test.
denied a.cdn5.test
denied b.a.cdn5.test
allowed cdn5.test # *.x: not the apex
denied exact.block.test
denied crlf.block.test
denied spaced.block.test
denied last.block.test
allowed www.origin.test
allowed block.test
# The IP network: an address in it is refused before any connection.
expect_status 403 "http://192.0.2.9:$WEB/hello"
# CONNECT goes through the same rule.
expect_status 403 -p "http://www.track4.test:$WEB/hello"
expect_status 200 -p "http://www.origin.test:$WEB/hello"
log_line_matching " TCP_DENIED/403 [0-9]+ CONNECT www\.track4\.test:$WEB "

# A changed list applies after SIGHUP: a name taken off passes, a name
# added is refused.
grep -v '^ads3\.block\.test$' "$T/lists/block.txt" >"$T/lists/block.new"
echo "www.origin.test" >>"$T/lists/block.new"
mv "$T/lists/block.new" "$T/lists/block.txt"
pinhole_reload
allowed ads3.block.test
denied www.origin.test
denied track4.test

# validate names the bad lines of the list, at the list's own lines.
cat >"$T/lists/bad.txt" <<EOF
# line 1
good.block.test
bad..block.test
ok.block.test
0.0.0.0 hosts-format.block.test
EOF
cat >"$T/bad.conf" <<EOF
listen 127.0.0.1:$PH_PORT
deny domain-file lists/bad.txt
deny domain-file lists/missing.txt
allow all
EOF
run_pinhole validate -c "$T/bad.conf"
expect_eq 1 "$RC" "exit status of pinhole validate with a bad list"
expect_match "lists/bad\.txt:3: bad domain pattern 'bad\.\.block\.test': it has an empty label" "$ERR" \
	"error for line 3 of the list"
expect_match "lists/bad\.txt:5: '0\.0\.0\.0 hosts-format\.block\.test' is more than one word" "$ERR" \
	"error for line 5 of the list"
expect_match "bad\.conf:3: cannot read the domain-file '.*lists/missing\.txt': No such file" "$ERR" \
	"error for the missing list"
expect_no_match "bad\.txt:(1|2|4):" "$ERR" "errors for the good lines of the list"

# validate's warnings: a rule after one with the same list can never
# match; another list is another rule.
printf 'good.block.test\n' >"$T/lists/ok.txt"
printf 'other.block.test\n' >"$T/lists/other.txt"
cat >"$T/shadow.conf" <<EOF
listen 127.0.0.1:$PH_PORT
deny domain-file lists/ok.txt
deny domain-file lists/other.txt
deny domain-file lists/ok.txt port 443
allow all
EOF
run_pinhole validate -c "$T/shadow.conf"
expect_eq 0 "$RC" "exit status of pinhole validate with warnings only (stderr: $ERR)"
expect_match "shadow\.conf:4: warning: 'deny domain-file lists/ok\.txt port 443' can never match: 'deny domain-file lists/ok\.txt' at .*shadow\.conf:2" \
	"$ERR" "the rule after the same list"
expect_no_match "shadow\.conf:3:" "$ERR" "a rule with another list"

# A reload with a broken list is refused: the running rules stay.
echo "broken..block.test" >>"$T/lists/block.txt"
pinhole_reload
denied www.origin.test
allowed ads3.block.test
eventually 3 grep -qsE "lists/block\.txt:[0-9]+: bad domain pattern 'broken\.\.block\.test'" "$T/pinhole.err" ||
	fail "no error naming the list's bad line after the refused reload; stderr:
$(tail -n 20 "$T/pinhole.err")"
pinhole_stop
