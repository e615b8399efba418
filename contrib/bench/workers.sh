# workers.sh - the workers suite of the pinhole benchmark (`run.sh --suite
# workers`): the whole machine for everyone, nothing pinned.  Direct, then
# pinhole with `workers 1` and with `workers auto` (one per CPU), with
# loadgen and the origin free to run on any CPU too: what an office gets
# from a second core, and what the pinned core suite cannot show.  The
# table goes to results/latest-workers.txt.  Sourced by run.sh, whose
# helpers it uses; not run on its own.

# The origin was started pinned with loadgen: let it go anywhere, and back.
workers_unpin() {
	WK_PIN_SAVE=$PIN_LOAD
	PIN_LOAD=""
	[ -n "$WK_PIN_SAVE" ] && taskset -p -c "0-$((NCPU - 1))" "$ECHOD_PID" >/dev/null 2>&1
}

workers_repin() {
	PIN_LOAD=$WK_PIN_SAVE
	[ -n "$WK_PIN_SAVE" ] && taskset -p -c 1 "$ECHOD_PID" >/dev/null 2>&1
}

workers_target() {	# round target
	wt_r=$1; wt_t=$2
	say "round $wt_r: $wt_t (nothing pinned)"
	wait_quiet
	if [ "$wt_t" = direct ]; then
		OURS="-x $ECHOD_PID"
		wt_p="-p 0"
	else
		PINHOLE_WORKERS=1
		[ "$wt_t" = pinhole-w1 ] || PINHOLE_WORKERS=auto
		PIN_PROXY_SAVE=$PIN_PROXY
		PIN_PROXY=""
		start_proxy pinhole
		wt_rc=$?
		PIN_PROXY=$PIN_PROXY_SAVE
		PINHOLE_WORKERS=1
		if [ "$wt_rc" != 0 ]; then
			printf 'round %s %s: failed to start (see above)\n' "$wt_r" "$wt_t" >>"$NOTES"
			return
		fi
		OURS="-x $ECHOD_PID -r $PROXY_PID"
		wt_p="-p $PROXY_PORT"
	fi
	measure_tunnel "$wt_r" "$wt_t" "$wt_p"
	measure_bulk "$wt_r" "$wt_t" "$wt_p"
	measure_bulk "$wt_r" "$wt_t" "$wt_p" up
	measure_http "$wt_r" "$wt_t" "$wt_p"
	[ "$wt_t" = direct ] && return
	kill -0 "$PROXY_PID" 2>/dev/null ||
	    printf 'round %s %s: died during the round\n' "$wt_r" "$wt_t" >>"$NOTES"
	stop_proxy
}

workers_report() {
	WR="$TMP/report-workers"
	{
		say "pinhole workers bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs, nothing pinned (proxy, loadgen and" \
		    "origin go where the scheduler puts them)"
		say "rounds $ROUNDS (medians), tunnels ${T_TUN}s, bulk ${T_BULK}s x$BULK_TUNNELS" \
		    "each way, http ${T_HTTP}s, concurrency $CONC, warm-up ${WARM}s," \
		    "took ${WORKERS_ELAPSED}s"
		say "load average (1/5/15 min) at the start: $WORKERS_LOAD; at the end: $(loadavg)"
		say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1) ($PINHOLE_ORIG)," \
		    "the core config with workers 1 and workers auto ($NCPU)"
		if grep -q '^[0-9]* [a-z]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any, and numbers marked ! had none (not reliable)"
		fi
		say ""
		printf '%-34s %11s %11s %11s %9s %9s %9s\n' metric direct "workers 1" \
		    "workers $NCPU" "w1/dir" "w$NCPU/dir" "w$NCPU/w1"
		wrow() {	# label metric decimals
			wd=$(median direct "$2"); w1=$(median pinhole-w1 "$2")
			w2=$(median "pinhole-w$NCPU" "$2")
			printf '%-34s %11s %11s %11s %9s %9s %9s\n' "$1" \
			    "$(cell direct "$2" "$3")" "$(cell pinhole-w1 "$2" "$3")" \
			    "$(cell "pinhole-w$NCPU" "$2" "$3")" "$(ratio "$w1" "$wd")" \
			    "$(ratio "$w2" "$wd")" "$(ratio "$w2" "$w1")"
		}
		wrow "tunnels/s (64B echo)" tunnels 0
		wrow "  tunnel p99 ms" p99 0
		wrow "  CPU us/tunnel: proxy" us_p_tunnels 1
		wrow "  CPU us/tunnel: loadgen+origin" us_c_tunnels 1
		wrow "bulk MB/s, origin->client" bulk 0
		wrow "bulk MB/s, client->origin" bulkup 0
		wrow "HTTP keep-alive req/s" http 0
		wrow "  keep-alive p99 us" http_p99 0
		wrow "  CPU us/request: proxy" us_p_http 1
		say ""
		say "p99 rows in us.  Both CPUs busy (below) means the machine was" \
		    "the limit: proxy, loadgen and origin then share two CPUs, so" \
		    "direct keeps the CPU a proxy would use."
		say ""
		say "CPU busy, median of tunnels/bulk down/bulk up/http:"
		for t in direct pinhole-w1 "pinhole-w$NCPU"; do
			ran "$t" || continue
			printf '  %-12s CPU 0 %s/%s/%s/%s  CPU 1 %s/%s/%s/%s\n' "$t" \
			    "$(fmt "$(median "$t" cpu0_tunnels)" 2)" "$(fmt "$(median "$t" cpu0_bulk)" 2)" \
			    "$(fmt "$(median "$t" cpu0_bulkup)" 2)" "$(fmt "$(median "$t" cpu0_http)" 2)" \
			    "$(fmt "$(median "$t" cpu1_tunnels)" 2)" "$(fmt "$(median "$t" cpu1_bulk)" 2)" \
			    "$(fmt "$(median "$t" cpu1_bulkup)" 2)" "$(fmt "$(median "$t" cpu1_http)" 2)"
		done
		if [ -s "$NOTES" ]; then
			say ""
			say "* = errors in at least one round, ! = in every round" \
			    "other processes used more than $BG_MAX CPUs (unreliable); notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$WR"
	{
		cat "$WR"
		say ""
		say "per-round values (round target metric value):"
		sed 's/^/  /' "$RAW"
	} >"$WR.full"
	say ""
	cat "$WR"
	if ! ran pinhole-w1 && ! ran direct; then
		err "no workers measurement succeeded; results/latest-workers.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null && cp "$WR.full" "$HERE/results/latest-workers.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest-workers.txt (with the per-round values)"
	fi
	return 0
}

workers_suite() {
	RAW="$TMP/raw-workers"
	NOTES="$TMP/notes-workers"
	: >"$RAW"
	: >"$NOTES"
	WORKERS_START=$(date +%s)
	WORKERS_LOAD=$(loadavg)
	say ""
	say "pinhole workers bench: $ROUNDS round(s), nothing pinned"
	if [ "$PINHOLE_OK" != 1 ]; then
		say "bench: workers: skipping pinhole: $PINHOLE_WHY"
	fi
	workers_unpin
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		workers_target "$round" direct
		if [ "$PINHOLE_OK" = 1 ]; then
			# the order turned every other round
			if [ $((round % 2)) = 1 ]; then wk_o="pinhole-w1 pinhole-w$NCPU"
			else wk_o="pinhole-w$NCPU pinhole-w1"; fi
			for wk_t in $wk_o; do
				workers_target "$round" "$wk_t"
			done
		fi
		round=$((round + 1))
	done
	workers_repin
	WORKERS_ELAPSED=$(($(date +%s) - WORKERS_START))
	workers_report
}
