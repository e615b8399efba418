#!/bin/sh
# `pinhole validate` finds in one pass what `run` or a reload would trip
# on, each as FILE:LINE: a log in a directory that does not exist, a file
# that cannot be read (the TLS CA among the others), a `user` matcher with
# no auth line (it can never match); exit 1.  What is legal but most likely
# wrong is a warning (FILE:LINE: warning: ...) and validate still exits 0:
# an unknown method (with "did you mean"), a rule that can never match
# (naming the rule before it that matches everything it would).  `include`
# takes a pattern, read in sorted order.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

cat >"$T/broken.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/nowhere/access.log squid
hosts-file $T/missing.hosts
tls-inspect ca $T/ca/ca.crt $T/ca/ca.key
allow user alice
allow all
EOF
run_pinhole validate -c "$T/broken.conf"
expect_eq 1 "$RC" "exit status of validate on a broken file"
expect_match "^$T/broken\.conf:2: cannot write the access log $T/nowhere/access\.log: the directory $T/nowhere does not exist" \
	"$ERR" "validate's errors"
expect_match "^$T/broken\.conf:3: cannot read the hosts-file '$T/missing\.hosts'" "$ERR" "validate's errors"
expect_match "^$T/broken\.conf:4: tls-inspect: cannot read the CA certificate $T/ca/ca\.crt" "$ERR" "validate's errors"
expect_match "^$T/broken\.conf:4: tls-inspect: cannot read the CA key $T/ca/ca\.key" "$ERR" "validate's errors"
expect_match "^$T/broken\.conf:5: 'allow user alice' can never match: there is no auth line" "$ERR" "validate's errors"

# run stops on the same errors, with the same lines, before listening.
run_pinhole run -c "$T/broken.conf"
expect_eq 1 "$RC" "exit status of run on the broken file"
expect_match "^$T/broken\.conf:2: cannot write the access log" "$ERR" "run's errors"
port_listening "$PH_PORT" && fail "pinhole listens although its configuration is broken"

# Warnings only: exit 0.
mkdir "$T/conf.d"
cat >"$T/conf.d/20-shadowed.conf" <<EOF
deny domain ads.example.com
EOF
cat >"$T/conf.d/10-first.conf" <<EOF
allow domain .example.com
EOF
cat >"$T/warn.conf" <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
allow method CONECT port 443
include conf.d/*.conf
allow all
deny domain late.example
EOF
run_pinhole validate -v -c "$T/warn.conf"
expect_eq 0 "$RC" "exit status of validate with warnings only (stderr: $ERR)"
expect_match "^$T/warn\.conf: OK \(1 listen, 5 access rules, 3 warnings\)$" "$OUT" "validate's summary"
expect_match "^$T/warn\.conf:3: warning: unknown method 'CONECT' \(did you mean 'CONNECT'\?\)" "$ERR" "validate's warnings"
expect_match "^$T/conf\.d/20-shadowed\.conf:1: warning: 'deny domain ads\.example\.com' can never match: 'allow domain \.example\.com' at $T/conf\.d/10-first\.conf:1 matches every request it would" \
	"$ERR" "validate's warnings"
expect_match "^$T/warn\.conf:6: warning: 'deny domain late\.example' can never match: 'allow all' at $T/warn\.conf:5" \
	"$ERR" "validate's warnings"
# The included files in sorted order, between the lines around the include.
order=$(grep -E '^(allow|deny) ' <<<"$OUT" | sed 's/  #.*//' | tr '\n' '|')
expect_eq "allow method CONECT port 443|allow domain .example.com|deny domain ads.example.com|allow all|deny domain late.example|" \
	"$order" "the rules in the order validate read them"

# A pattern whose directory does not exist is an error; one matching no
# file in an existing directory is not.
echo "include conf.d/*.none" >>"$T/warn.conf"
echo "include missing.d/*.conf" >>"$T/warn.conf"
run_pinhole validate -c "$T/warn.conf"
expect_eq 1 "$RC" "exit status of validate with an include of a missing directory"
expect_match "^$T/warn\.conf:8: cannot include '$T/missing\.d/\*\.conf': the directory $T/missing\.d does not exist" \
	"$ERR" "validate's errors"
expect_no_match "warn\.conf:7:" "$ERR" "validate's errors"
