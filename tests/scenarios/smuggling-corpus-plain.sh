#!/bin/sh
# The request-smuggling corpus (tests/smuggling/corpus.py) through the plain
# HTTP proxy: an ambiguous request is refused (and the connection closed) or
# reaches the origin as exactly the one request the client sent; a malformed
# response becomes a 502; and a second client, on its own connection, gets
# its own answer from the pooled origin connections, never one left behind.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
. "$PH_SRCDIR/tests/smuggling/smuggling.sh"

start_recorder WEB
# Each variant has origin names of its own (v1.origin.test, ...), all of them
# the recording origin; one worker, so that the second client of a variant
# draws from the same origin connection pool as the first.
corpus_hosts 127.0.0.1 origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
workers 1
allow all
EOF
run_corpus plain --origin "v%d.origin.test:$WEB" --origin2 "w%d.origin.test:$WEB"
pinhole_stop
