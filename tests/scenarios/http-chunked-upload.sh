#!/bin/sh
# A chunked request body (Transfer-Encoding: chunked upload) reaches the
# origin complete and byte-exact.
. "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"

start_origin WEB http
hosts_entry 127.0.0.1 www.origin.test
pinhole_start <<EOF
listen 127.0.0.1:$PH_PORT
access-log $T/access.log squid
hosts-file $T/hosts
allow all
EOF

head -c 300000 /dev/urandom >"$T/upload"
expect_status 200 -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
	--data-binary "@$T/upload" "http://www.origin.test:$WEB/echo"
expect_eq 300000 "$(json_field "$BODY" body_length)" "body length the origin received"
expect_eq "\"$(sha256sum <"$T/upload" | cut -d' ' -f1)\"" "$(json_field "$BODY" body_sha256)" "sha256 of the body the origin received"
log_line_matching " TCP_MISS/200 [0-9]+ POST http://www\.origin\.test:$WEB/echo "
pinhole_stop
