#!/bin/sh
# The request-smuggling corpus (tests/smuggling/corpus.py) inside inspected
# TLS: each client opens a CONNECT, speaks TLS with pinhole's minted
# certificate and sends the variant's origin-form requests; pinhole relays
# them to a TLS origin it verifies.  The same outcomes as through the plain
# proxy: refused and closed, or exactly one request at the origin per client
# request, a 502 for a malformed response, and a second client served its
# own answer.  Variants that need absolute-form or a half-close run only in
# the plain scenario.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_LIB/inspect.sh"
. "$PH_SRCDIR/tests/smuggling/smuggling.sh"

make_pinhole_ca
make_leaf '*.origin.test'
start_recorder WEB --cert "$T/leaf.pem" --key "$T/leaf.key"
corpus_hosts 127.0.0.1 origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
workers 1
tls-inspect ca $PCA_CRT $PCA_KEY
tls-trust $T/ca.pem
allow all
EOF
run_corpus inspect --origin "v%d.origin.test:$WEB" --ca "$PCA_CRT"
pinhole_stop
