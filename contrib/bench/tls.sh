# tls.sh - the TLS inspection suite of the pinhole benchmark (`run.sh
# --suite tls`): TLS handshakes per second through pinhole's inspection and
# through Squid's ssl_bump, with a warm and a cold minted-certificate cache,
# and pinhole's spliced tunnels with and without inspection configured; the
# table goes to results/latest-tls.txt.  Sourced by run.sh, whose helpers it
# uses (process bookkeeping, start_proxy, run_lg, record, median...); not
# run on its own.

TLS_NAME=www.bench.test
# Cold cache: h0.bench.test, h1.bench.test, ... one new name per
# connection, each resolvable through the proxies' hosts files and covered
# by the origin's *.bench.test certificate.  More names than a measurement
# can use, so that every handshake is a first visit (a run that used them
# all would stop early and say so).
TLS_COLD_PATTERN='h%u.bench.test'
TLS_COLD_NAMES=200000
SQUID_CERTGEN=/usr/lib/squid/security_file_certgen

# Build loadgen with tlsgen.c, and the TLS origin.
tls_build() {
	if ! command -v pkg-config >/dev/null 2>&1 ||
	    ! tb_flags=$(pkg-config --cflags --libs libssl libcrypto \
	    2>"$TMP/build-tls.log"); then
		err "the tls suite needs pkg-config and libssl-dev" \
		    "(apt-get install pkg-config libssl-dev)"
		return 1
	fi
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS_B -DBENCH_TLS -o "$TMP/loadgen-tls" "$HERE/loadgen.c" \
	    "$HERE/tlsgen.c" $tb_flags 2>>"$TMP/build-tls.log" ||
	    ! $CC $CFLAGS_B -o "$TMP/tlsd" "$HERE/tlsd.c" $tb_flags \
	    2>>"$TMP/build-tls.log"; then
		err "building the tls suite's tools failed:"
		cat "$TMP/build-tls.log" >&2
		return 1
	fi
	return 0
}

# The origin's own CA and its ECDSA P-256 leaf for www.bench.test and
# *.bench.test (openssl CLI); the proxies' CA from `pinhole ca create`, the
# same files for Squid, so that both mint P-256 leaves (Squid's leaves use
# its CA's key); the hosts file both proxies resolve the names with.
tls_certs() {
	TD="$TMP/tls"
	mkdir -p "$TD" && chmod 755 "$TD"
	if ! command -v openssl >/dev/null 2>&1; then
		err "the tls suite needs the openssl command (apt-get install openssl)"
		return 1
	fi
	{
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$TD/origin-ca.key" -out "$TD/origin-ca.crt" \
		    -subj "/CN=pinhole bench origin CA" -days 2 \
		    -addext "basicConstraints=critical,CA:TRUE" \
		    -addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -keyout "$TD/origin.key" -out "$TD/origin.csr" \
		    -subj "/CN=$TLS_NAME" &&
		printf '%s\n' "subjectAltName=DNS:$TLS_NAME,DNS:*.bench.test" \
		    "basicConstraints=critical,CA:FALSE" \
		    "keyUsage=critical,digitalSignature" \
		    "extendedKeyUsage=serverAuth" >"$TD/origin.ext" &&
		openssl x509 -req -in "$TD/origin.csr" -CA "$TD/origin-ca.crt" \
		    -CAkey "$TD/origin-ca.key" -set_serial 1 -days 2 \
		    -extfile "$TD/origin.ext" -out "$TD/origin.crt"
	} >"$TD/openssl.log" 2>&1 || {
		err "making the origin's certificates failed:"
		tail -n 5 "$TD/openssl.log" >&2
		return 1
	}
	if [ "$PINHOLE_OK" = 1 ] || [ "$SQUID_OK" = 1 ]; then
		if ! "${PINHOLE:-pinhole}" ca create "$TD/ca" >"$TD/ca.log" 2>&1; then
			err "'pinhole ca create' failed: $(head -n 2 "$TD/ca.log")"
			return 1
		fi
		# pinhole refuses a key others can read; Squid gets a copy it
		# can read after switching to its user (started as root): a
		# throwaway CA in a private temporary directory
		chmod 755 "$TD/ca"
		cp "$TD/ca/ca.key" "$TD/ca/squid-ca.key" &&
		    chmod 644 "$TD/ca/squid-ca.key"
	fi
	awk -v n="$TLS_COLD_NAMES" -v w="$TLS_NAME" 'BEGIN {
		print "127.0.0.1 " w
		for (i = 0; i < n; i++) print "127.0.0.1 h" i ".bench.test" }' \
	    >"$TD/hosts"
	return 0
}

tls_origin_start() {
	TLSD_PORT=$(freeports 1)
	$PIN_LOAD "$TMP/tlsd" -p "$TLSD_PORT" -c "$TD/origin.crt" \
	    -k "$TD/origin.key" -t 3600 >"$TMP/tlsd.log" 2>&1 &
	TLSD_PID=$!
	pid_add "$TLSD_PID"
	if ! "$LG" waitport "$TLSD_PORT" 5000; then
		err "tlsd did not listen on 127.0.0.1:$TLSD_PORT within 5 s"
		cat "$TMP/tlsd.log" >&2
		return 1
	fi
	return 0
}

# Does this Squid have ssl_bump (Debian: squid-openssl)?
tls_squid_ok() {
	[ "$SQUID_OK" = 1 ] || { TLS_SQUID_WHY=$SQUID_WHY; return 1; }
	if ! "$SQUID" -v 2>/dev/null | grep -q -- '--with-openssl'; then
		TLS_SQUID_WHY="this squid has no ssl_bump (built without OpenSSL; apt-get install squid-openssl)"
		return 1
	fi
	if [ ! -x "$SQUID_CERTGEN" ]; then
		TLS_SQUID_WHY="$SQUID_CERTGEN not found"
		return 1
	fi
	return 0
}

# Proxy configuration of variant $1: inspect (pinhole and Squid bump),
# plain (pinhole without tls-inspect), noinspect (pinhole with tls-inspect
# and no-inspect $TLS_NAME).
tls_conf() {
	PINHOLE_EXTRA="hosts-file $TD/hosts"
	SQUID_PORT_OPTS=""
	SQUID_EXTRA=""
	case "$1" in
	inspect|noinspect)
		PINHOLE_EXTRA="$PINHOLE_EXTRA
tls-inspect ca $TD/ca/ca.crt $TD/ca/ca.key
tls-trust $TD/origin-ca.crt"
		[ "$1" = noinspect ] && PINHOLE_EXTRA="$PINHOLE_EXTRA
no-inspect $TLS_NAME"
		SQUID_PORT_OPTS=" ssl-bump tls-cert=$TD/ca/ca.crt tls-key=$TD/ca/squid-ca.key generate-host-certificates=on dynamic_cert_mem_cache_size=64MB"
		SQUID_EXTRA="sslcrtd_program $SQUID_CERTGEN -s $TD/ssldb -M 64MB
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=$TD/origin-ca.crt
sslproxy_cert_error deny all
hosts_file $TD/hosts" ;;
	esac
}

# Start target $1 with variant $2; Squid gets a new, empty certificate
# database each time (so the cold run finds nothing minted before).
tls_start() {
	tls_conf "$2"
	if [ "$1" = squid ]; then
		rm -rf "$TD/ssldb"
		if ! "$SQUID_CERTGEN" -c -s "$TD/ssldb" -M 64MB \
		    >"$TD/certgen.log" 2>&1; then
			err "security_file_certgen -c failed: $(head -n 2 "$TD/certgen.log")"
			return 1
		fi
		chmod -R a+rwX "$TD/ssldb"	# its helpers run as Squid's user
	fi
	start_proxy "$1"
}

tls_conf_reset() {
	PINHOLE_EXTRA=""
	SQUID_PORT_OPTS=""
	SQUID_EXTRA=""
	SQUID_ACCESS_LOG=none
}

# One run of the tls mode: round target metric name cafile [port].
tls_measure() {
	tm_r=$1; tm_t=$2; tm_m=$3; tm_n=$4; tm_ca=$5; tm_p=${6:-$PROXY_PORT}
	LG_SAVE=$LG
	LG=$TMP/loadgen-tls
	run_lg tls -p "$tm_p" $OURS -t "$TLSD_PORT" -N "$tm_n" -C "$tm_ca" \
		-c "$CONC" -d "$T_TUN" -w "$WARM" -n "$TLS_COLD_NAMES"
	LG=$LG_SAVE
	if note_errors "$tm_r" "$tm_t" "$tm_m" "$tm_m"; then
		tm_rate=$(kv rate)
		record "$tm_r" "$tm_t" "$tm_m" "$tm_rate"
		record "$tm_r" "$tm_t" "${tm_m}_p50" "$(kv p50_us)"
		record "$tm_r" "$tm_t" "${tm_m}_p99" "$(kv p99_us)"
		record_cpu "$tm_r" "$tm_t" "$tm_m"
		tm_pc=$(kv proxy_cpu)
		# proxy CPU time per handshake: comparable even when the
		# harness's CPU is the limit
		[ -n "$tm_pc" ] && awk -v c="$tm_pc" -v r="$tm_rate" \
		    'BEGIN { exit !(r + 0 > 0) }' &&
		    record "$tm_r" "$tm_t" "us_$tm_m" "$(awk -v c="$tm_pc" \
		    -v r="$tm_rate" 'BEGIN { printf "%.1f", c * 1e6 / r }')"
		say "  $tm_m handshakes/s $tm_rate  p50 $(kv p50_us)us" \
		    "p99 $(kv p99_us)us  err $(kv err)  proxy CPU ${tm_pc:--}" \
		    " $(cpu_text)"
		[ "$(kv err)" != 0 ] && [ -s "$TMP/lg.err" ] &&
		    sed -n '1,2s/^/    /p' "$TMP/lg.err"
		tm_secs=$(kv secs)
		awk -v s="$tm_secs" -v d="$T_TUN" 'BEGIN { exit !(s + 0 < d - 0.01) }' &&
		    printf 'round %s %s %s: stopped after %ss (names used up or errors)\n' \
		    "$tm_r" "$tm_t" "$tm_m" "$tm_secs" >>"$NOTES"
	fi
	return 0
}

# The existing tunnel cycle (64-byte echo, not TLS) on pinhole: round metric.
tls_tunnel() {
	run_lg tunnel -p "$PROXY_PORT" $OURS -t "$ECHO_PORT" -c "$CONC" \
		-d "$T_TUN" -w "$WARM" -n 3000000
	if note_errors "$1" pinhole "$2" "$2"; then
		record "$1" pinhole "$2" "$(kv rate)"
		record_cpu "$1" pinhole "$2"
		say "  $2 tunnels/s $(kv rate)  p50 $(kv p50_us)us" \
		    "p99 $(kv p99_us)us  err $(kv err)  $(cpu_text)"
	fi
}

# Once per proxy: a few handshakes with Squid's access log on, and the
# issuer the client sees, so the table can say both really inspected.
tls_check() {	# target
	tc_t=$1
	SQUID_ACCESS_LOG="$TD/squid-access.log"
	: >"$SQUID_ACCESS_LOG"
	chmod 666 "$SQUID_ACCESS_LOG"
	if ! tls_start "$tc_t" inspect; then
		tls_conf_reset
		return 1
	fi
	OURS="-x $ECHOD_PID,$TLSD_PID -r $PROXY_PID"
	LG_SAVE=$LG
	LG=$TMP/loadgen-tls
	run_lg tls -p "$PROXY_PORT" $OURS -t "$TLSD_PORT" -N "$TLS_NAME" \
		-C "$TD/ca/ca.crt" -c 1 -d 2 -n 5
	LG=$LG_SAVE
	tc_ok=$(kv ok)
	tc_issuer=$(printf '' | timeout 10 openssl s_client -proxy \
	    "127.0.0.1:$PROXY_PORT" -connect "$TLS_NAME:$TLSD_PORT" \
	    -servername "$TLS_NAME" -CAfile "$TD/ca/ca.crt" \
	    -verify_return_error 2>/dev/null | sed -n 's/^issuer=//p' | head -n 1)
	stop_proxy
	tc_log=""
	if [ "$tc_t" = squid ]; then
		tc_n=$(grep -c "GET https://$TLS_NAME:$TLSD_PORT/" \
		    "$SQUID_ACCESS_LOG" 2>/dev/null)
		tc_log=", its access log has ${tc_n:-0} 'GET https://$TLS_NAME:$TLSD_PORT/' lines"
	fi
	tls_conf_reset
	printf '%s: %s of 5 handshakes verified against the proxy CA only%s; the client sees issuer "%s"\n' \
	    "$tc_t" "${tc_ok:-0}" "$tc_log" "${tc_issuer:-?}" >>"$TD/checks"
	say "  check: $(tail -n 1 "$TD/checks")"
	[ "${tc_ok:-0}" -gt 0 ] 2>/dev/null
}

tls_round() {	# round
	tr_r=$1
	say "round $tr_r: direct"
	wait_quiet
	OURS="-x $ECHOD_PID,$TLSD_PID"
	tls_measure "$tr_r" direct warm "$TLS_NAME" "$TD/origin-ca.crt" 0
	for tr_t in pinhole squid; do
		[ "$tr_t" = pinhole ] && [ "$PINHOLE_OK" != 1 ] && continue
		[ "$tr_t" = squid ] && [ "$TLS_SQUID" != 1 ] && continue
		want_target "$tr_t" || continue
		say "round $tr_r: $tr_t, inspecting"
		wait_quiet
		if ! tls_start "$tr_t" inspect; then
			printf 'round %s %s: failed to start (see above)\n' "$tr_r" \
			    "$tr_t" >>"$NOTES"
			continue
		fi
		OURS="-x $ECHOD_PID,$TLSD_PID -r $PROXY_PID"
		# warm: the one name is minted in the warm-up, then served
		# from the cache; cold on the same process, new names only
		tls_measure "$tr_r" "$tr_t" warm "$TLS_NAME" "$TD/ca/ca.crt"
		tls_measure "$tr_r" "$tr_t" cold "$TLS_COLD_PATTERN" "$TD/ca/ca.crt"
		kill -0 "$PROXY_PID" 2>/dev/null ||
		    printf 'round %s %s: proxy died during the round\n' "$tr_r" \
		    "$tr_t" >>"$NOTES"
		stop_proxy
	done
	[ "$PINHOLE_OK" = 1 ] && want_target pinhole || return 0
	# spliced: pinhole without and with inspection configured, the order
	# swapped every other round so that a drift favours neither
	tr_vs="plain noinspect"
	[ $((tr_r % 2)) = 0 ] && tr_vs="noinspect plain"
	for tr_v in $tr_vs; do
		say "round $tr_r: pinhole, spliced, $([ $tr_v = plain ] &&
		    echo "no tls-inspect" || echo "tls-inspect + no-inspect $TLS_NAME")"
		wait_quiet
		if ! tls_start pinhole "$tr_v"; then
			printf 'round %s pinhole %s: failed to start (see above)\n' \
			    "$tr_r" "$tr_v" >>"$NOTES"
			continue
		fi
		OURS="-x $ECHOD_PID,$TLSD_PID -r $PROXY_PID"
		tls_tunnel "$tr_r" "tun_$tr_v"
		tls_measure "$tr_r" pinhole "spl_$tr_v" "$TLS_NAME" "$TD/origin-ca.crt"
		stop_proxy
	done
	tls_conf_reset
}

tls_report() {
	TR="$TMP/report-tls"
	{
		say "pinhole tls bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs, $PIN_NOTE"
		say "rounds $ROUNDS (medians), ${T_TUN}s per number after" \
		    "${WARM}s warm-up, concurrency $CONC, took ${TLS_ELAPSED}s"
		[ "$TLS_SQUID" = 1 ] &&
		    say "squid: $("$SQUID" -v 2>/dev/null | head -n 1)," \
		        "ssl_bump (peek at step 1, bump), security_file_certgen" \
		        "helpers (default children), pinned with Squid"
		[ "$TLS_SQUID" = 1 ] || say "squid: skipped: $TLS_SQUID_WHY"
		[ "$PINHOLE_OK" = 1 ] &&
		    say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1)" \
		    "($PINHOLE_ORIG)"
		say "$(openssl version 2>/dev/null) (client and origin)"
		say "cycle: CONNECT NAME:PORT, 200, TLS handshake (SNI NAME," \
		    "verified against the proxy's CA only), GET /, 64-byte 200," \
		    "close; no resumption; origin: ECDSA P-256 leaf for" \
		    "$TLS_NAME and *.bench.test"
		[ -s "$TD/checks" ] && sed 's/^/check: /' "$TD/checks"
		if grep -q '^[0-9]* [a-z]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any, and numbers marked ! had none (not reliable)"
		fi
		say ""
		printf '%-42s %13s %13s %13s %14s\n' metric direct pinhole squid \
		    pinhole/squid
		trow() {	# label metric
			printf '%-42s %13s %13s %13s %14s\n' "$1" \
			    "$(cell direct "$2" 0)" "$(cell pinhole "$2" 0)" \
			    "$(cell squid "$2" 0)" "$(ratio "$(median pinhole "$2")" \
			    "$(median squid "$2")")"
		}
		tlat() {	# metric
			tl_c=""
			for tl_t in direct pinhole squid; do
				tl_5=$(median "$tl_t" "${1}_p50")
				tl_9=$(median "$tl_t" "${1}_p99")
				if [ -z "$tl_5" ]; then tl_c="$tl_c -"
				else tl_c="$tl_c $(ms "$tl_5")/$(ms "$tl_9")"; fi
			done
			# shellcheck disable=SC2086
			set -- $tl_c
			printf '%-42s %13s %13s %13s\n' "  p50 ms / p99 ms" "$1" "$2" "$3"
		}
		tcpu() {	# label metric: proxy CPU us per handshake
			printf '%-42s %13s %13s %13s %14s\n' "$1" - \
			    "$(fmt "$(median pinhole "us_$2")" 0)" \
			    "$(fmt "$(median squid "us_$2")" 0)" \
			    "$(ratio "$(median pinhole "us_$2")" "$(median squid "us_$2")")"
		}
		trow "TLS handshakes/s, warm cache (one SNI)" warm
		tlat warm
		trow "TLS handshakes/s, cold (new SNI each)" cold
		tlat cold
		tcpu "proxy CPU us per handshake, warm" warm
		tcpu "proxy CPU us per handshake, cold" cold
		say ""
		say "direct: the client straight to the origin (no proxy): what" \
		    "CPU 1 (client + origin) allows; a proxied row near it is" \
		    "limited by CPU 1, not by the proxy."
		say ""
		printf '%-42s %13s %13s %8s\n' "pinhole, spliced" "no tls-inspect" \
		    "tls-inspect" ratio
		srow() {	# label metric-suffix
			printf '%-42s %13s %13s %8s\n' "$1" \
			    "$(cell pinhole "${2}_plain" 0)" \
			    "$(cell pinhole "${2}_noinspect" 0)" \
			    "$(paired_ratio pinhole "${2}_noinspect" "${2}_plain")"
		}
		srow "tunnels/s (64B echo, not TLS)" tun
		srow "TLS handshakes/s (no-inspect $TLS_NAME)" spl
		say "ratio: median over rounds of each round's tls-inspect /" \
		    "no tls-inspect (both measured back to back, the order" \
		    "swapped every other round)"
		say ""
		say "CPU busy (CPU 0: proxy and its helpers; CPU 1: loadgen +" \
		    "origins; 1.00 = that side was the limit):"
		for tr_m in warm cold tun_plain tun_noinspect spl_plain spl_noinspect; do
			for tr_t in direct pinhole squid; do
				[ -n "$(median "$tr_t" "$tr_m")" ] || continue
				printf '  %-14s %-8s CPU 0 %s  CPU 1 %s\n' "$tr_m" "$tr_t" \
				    "$(fmt "$(median "$tr_t" "cpu0_$tr_m")" 2)" \
				    "$(fmt "$(median "$tr_t" "cpu1_$tr_m")" 2)"
			done
		done
		if ran pinhole; then
			say ""
			say "targets (pinhole):"
			ttarget() {	# label value limit
				if [ "$2" = - ]; then
					printf '  %-52s %s\n' "$1" "n/a (missing data)"
				elif awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
					printf '  %-52s %-8s (%s >= %s)\n' "$1" MET "$2" "$3"
				else
					printf '  %-52s %-8s (%s >= %s)\n' "$1" "NOT MET" "$2" "$3"
				fi
			}
			ttarget "warm handshakes/s >= 2x squid" \
			    "$(ratio "$(median pinhole warm)" "$(median squid warm)")" 2
			ttarget "spliced tunnels/s with tls-inspect >= 0.95x without" \
			    "$(paired_ratio pinhole tun_noinspect tun_plain)" 0.95
		fi
		if [ -s "$NOTES" ]; then
			say ""
			say "* = errors in at least one round, ! = in every round" \
			    "other processes used more than $BG_MAX CPUs" \
			    "(unreliable); notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$TR"
	{
		cat "$TR"
		say ""
		say "per-round values (round target metric value; _p50/_p99 in us," \
		    "us_ = proxy CPU us per handshake, cpu0/cpu1 = busy fraction," \
		    "bg = CPUs used by other processes, err = error count):"
		sed 's/^/  /' "$RAW"
	} >"$TR.full"
	say ""
	cat "$TR"
	if ! ran pinhole && ! ran squid && ! ran direct; then
		err "no tls measurement succeeded; results/latest-tls.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null &&
	    cp "$TR.full" "$HERE/results/latest-tls.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest-tls.txt" \
		    "(with the per-round values)"
	else
		err "could not write $HERE/results/latest-tls.txt"
	fi
	return 0
}

# The whole suite; 1 when it could not measure anything.
tls_suite() {
	RAW="$TMP/raw-tls"
	NOTES="$TMP/notes-tls"
	: >"$RAW"
	: >"$NOTES"
	TLS_START=$(date +%s)
	say ""
	say "pinhole tls bench: $ROUNDS round(s), ${T_TUN}s per number" \
	    "(+${WARM}s warm-up), concurrency $CONC; $PIN_NOTE"
	tls_build || exit 2
	TLS_SQUID=0
	TLS_SQUID_WHY=""
	if want_target squid; then
		if tls_squid_ok; then TLS_SQUID=1
		else say "bench: tls: skipping squid: $TLS_SQUID_WHY"; fi
	fi
	if want_target pinhole && [ "$PINHOLE_OK" != 1 ]; then
		say "bench: skipping pinhole: $PINHOLE_WHY"
	fi
	tls_certs || exit 2
	tls_origin_start || exit 2
	: >"$TD/checks"
	say "checks (a few handshakes each):"
	if [ "$PINHOLE_OK" = 1 ] && want_target pinhole; then
		tls_check pinhole || printf 'pinhole did not inspect in the check\n' >>"$NOTES"
	fi
	if [ "$TLS_SQUID" = 1 ]; then
		tls_check squid || printf 'squid did not bump in the check\n' >>"$NOTES"
	fi
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		tls_round "$round"
		round=$((round + 1))
	done
	stop_pid "$TLSD_PID"
	TLS_ELAPSED=$(( $(date +%s) - TLS_START ))
	tls_report
}
