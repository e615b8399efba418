# chain.sh - the parent-proxy suite of the pinhole benchmark (`run.sh
# --suite chain`): CONNECT tunnels (setup and a short exchange) and bulk
# transfer through two proxies, the first sending everything to the second
# as its parent: pinhole -> pinhole (upstream-proxy), pinhole -> Squid, and
# Squid -> Squid (cache_peer ... parent, never_direct), next to one pinhole
# alone.  Both proxies of a chain share CPU 0; loadgen and the origin CPU
# 1.  The table (ratios only) goes to results/latest-chain.txt.  Sourced by
# run.sh, whose helpers it uses (process bookkeeping, start_proxy, run_lg,
# record, median...); not run on its own.

CHAIN_TARGETS="single pinhole-pinhole pinhole-squid squid-squid"

# The parent of a chain (pinhole or squid) on a port of its own; sets
# PARENT_PID and PARENT_PORT.  1 when it does not start.
chain_parent() {
	PARENT_PORT=$(freeports 1)
	cp_log="$TMP/parent-$1.log"
	case "$1" in
	pinhole)
		cat >"$TMP/parent-pinhole.conf" <<EOF
# written by contrib/bench/chain.sh: the parent of a chain
listen 127.0.0.1:$PARENT_PORT
workers 1
access-log off
allow dst-local
allow all
max-connections 19000
timeout tunnel-idle 10m
EOF
		$PIN_PROXY "$PINHOLE" run -c "$TMP/parent-pinhole.conf" >>"$cp_log" 2>&1 &
		;;
	squid)
		: >"$TMP/parent-squid-cache.log"
		chmod 666 "$TMP/parent-squid-cache.log"
		cat >"$TMP/parent-squid.conf" <<EOF
# written by contrib/bench/chain.sh: the parent of a chain
http_port 127.0.0.1:$PARENT_PORT
http_access allow all
cache deny all
access_log none
cache_store_log none
cache_log $TMP/parent-squid-cache.log
pid_filename $TMP/parent-squid.pid
coredump_dir $TMP
workers 1
max_filedescriptors 20000
shutdown_lifetime 0 seconds
pinger_enable off
visible_hostname parent
EOF
		$PIN_PROXY "$SQUID" -N -f "$TMP/parent-squid.conf" >>"$cp_log" 2>&1 &
		;;
	esac
	PARENT_PID=$!
	pid_add "$PARENT_PID"
	if ! "$LG" waitport "$PARENT_PORT" 15000; then
		err "the $1 parent did not accept on 127.0.0.1:$PARENT_PORT within 15 s"
		tail -n 5 "$cp_log" >&2
		stop_pid "$PARENT_PID"
		PARENT_PID=""
		return 1
	fi
	return 0
}

chain_round() {	# round target
	cr_r=$1; cr_t=$2
	case "$cr_t" in
	*squid*) [ "$SQUID_OK" = 1 ] || return ;;
	esac
	say "round $cr_r: $cr_t"
	wait_quiet
	PARENT_PID=""
	case "$cr_t" in
	single) cr_front=pinhole ;;
	pinhole-pinhole | pinhole-squid)
		chain_parent "${cr_t#pinhole-}" || {
			printf 'round %s %s: the parent failed to start\n' "$cr_r" "$cr_t" >>"$NOTES"
			return
		}
		cr_front=pinhole
		PINHOLE_EXTRA="upstream-proxy http://127.0.0.1:$PARENT_PORT"
		;;
	squid-squid)
		chain_parent squid || {
			printf 'round %s %s: the parent failed to start\n' "$cr_r" "$cr_t" >>"$NOTES"
			return
		}
		cr_front=squid
		SQUID_EXTRA="cache_peer 127.0.0.1 parent $PARENT_PORT 0 no-query no-digest default
never_direct allow all"
		;;
	esac
	if ! start_proxy "$cr_front"; then
		printf 'round %s %s: failed to start (see above)\n' "$cr_r" "$cr_t" >>"$NOTES"
		[ -n "$PARENT_PID" ] && stop_pid "$PARENT_PID"
		PINHOLE_EXTRA=""
		SQUID_EXTRA=""
		return
	fi
	OURS="-x $ECHOD_PID${PARENT_PID:+,$PARENT_PID} -r $PROXY_PID"
	measure_tunnel "$cr_r" "$cr_t" "-p $PROXY_PORT"
	measure_bulk "$cr_r" "$cr_t" "-p $PROXY_PORT"
	kill -0 "$PROXY_PID" 2>/dev/null ||
	    printf 'round %s %s: the front proxy died during the round\n' "$cr_r" "$cr_t" >>"$NOTES"
	[ -n "$PARENT_PID" ] && ! kill -0 "$PARENT_PID" 2>/dev/null &&
	    printf 'round %s %s: the parent died during the round\n' "$cr_r" "$cr_t" >>"$NOTES"
	stop_proxy
	[ -n "$PARENT_PID" ] && stop_pid "$PARENT_PID"
	PARENT_PID=""
	PINHOLE_EXTRA=""
	SQUID_EXTRA=""
}

chain_report() {
	CR="$TMP/report-chain"
	{
		say "pinhole chain bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs, both proxies of a chain on CPU 0," \
		    "loadgen+origin on CPU 1"
		say "rounds $ROUNDS (medians), tunnels ${T_TUN}s and bulk ${T_BULK}s" \
		    "per number, tunnel concurrency $CONC, $BULK_TUNNELS bulk tunnels," \
		    "took ${CHAIN_ELAPSED}s"
		say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1) ($PINHOLE_ORIG)"
		[ "$SQUID_OK" = 1 ] && say "squid: $("$SQUID" -v 2>/dev/null | head -n 1)"
		if grep -q '^[0-9]* [a-z-]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any (see the notes)"
		fi
		say ""
		printf '%-34s %16s %16s\n' "" "tunnels/s" "bulk MB/s"
		crow() {	# label a b
			printf '%-34s %16s %16s\n' "$1" \
			    "$(ratio "$(median "$2" tunnels)" "$(median "$3" tunnels)")" \
			    "$(ratio "$(median "$2" bulk)" "$(median "$3" bulk)")"
		}
		crow "pinhole->pinhole / squid->squid" pinhole-pinhole squid-squid
		crow "pinhole->squid / squid->squid" pinhole-squid squid-squid
		crow "pinhole->pinhole / pinhole alone" pinhole-pinhole single
		crow "pinhole->squid / pinhole alone" pinhole-squid single
		crow "squid->squid / pinhole alone" squid-squid single
		say ""
		say "a ratio above 1 means the first chain did more; \"-\" = not" \
		    "measured (Squid missing, or a chain failed: see the notes)."
		say "Both proxies of a chain run on CPU 0, so a chain has half the" \
		    "CPU per proxy of a single one."
		if [ -s "$NOTES" ]; then
			say ""
			say "notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$CR"
	{
		cat "$CR"
		say ""
		say "per-round values (round target metric value; tunnels/s," \
		    "MB/s, p50/p99 in us, cpu0/cpu1 = busy fraction, bg = CPUs" \
		    "used by other processes, err = error count):"
		sed 's/^/  /' "$RAW"
	} >"$CR.full"
	say ""
	cat "$CR"
	if ! ran single && ! ran pinhole-pinhole; then
		err "no chain measurement succeeded; results/latest-chain.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null &&
	    cp "$CR.full" "$HERE/results/latest-chain.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest-chain.txt (with the per-round values)"
	else
		err "could not write $HERE/results/latest-chain.txt"
	fi
	return 0
}

# The whole suite; 1 when it could not measure anything.
chain_suite() {
	RAW="$TMP/raw-chain"
	NOTES="$TMP/notes-chain"
	: >"$RAW"
	: >"$NOTES"
	CHAIN_START=$(date +%s)
	say ""
	say "pinhole chain bench: $ROUNDS round(s), tunnels ${T_TUN}s and bulk" \
	    "${T_BULK}s (+${WARM}s warm-up), concurrency $CONC; chains" \
	    "$(printf '%s' "$CHAIN_TARGETS" | sed 's/ /, /g')"
	if [ "$PINHOLE_OK" != 1 ]; then
		err "the chain suite needs pinhole: $PINHOLE_WHY"
		return 1
	fi
	[ "$SQUID_OK" = 1 ] || say "bench: chains with Squid skipped: $SQUID_WHY"
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		for ct in $CHAIN_TARGETS; do
			chain_round "$round" "$ct"
		done
		round=$((round + 1))
	done
	CHAIN_ELAPSED=$(( $(date +%s) - CHAIN_START ))
	chain_report
}
