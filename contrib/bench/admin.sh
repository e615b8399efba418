# admin.sh - the admin-interface suite of the pinhole benchmark (`run.sh
# --suite admin`): pinhole's tunnel rate with nobody scraping its admin
# interface, then with 200 clients scraping /metrics and /report.json in a
# loop, and the drop; the table goes to results/latest-admin.txt.  Sourced
# by run.sh, whose helpers it uses (process bookkeeping, start_proxy,
# run_lg, record, median...); not run on its own.

ADMIN_SCRAPERS=200
ADMIN_PATHS=/metrics,/report.json
# how scrapers connect: close = a new connection per scrape, keepalive = one
# connection per scraper for the whole run (what Prometheus does)
ADMIN_MODES="close keepalive"

# The tunnel cycle with scrapers running meanwhile: round metric mode.
# Mode none: no scrapers (the baseline).
admin_measure() {
	am_r=$1; am_m=$2; am_mode=$3
	SCRAPE_PID=""
	if [ "$am_mode" != none ]; then
		am_k=""
		[ "$am_mode" = close ] && am_k="-K"
		# started first and stopped last, so it covers the whole
		# measured window; pinned with loadgen and the origin
		am_d=$(awk -v w="$WARM" -v t="$T_TUN" 'BEGIN { print w + t + 1.5 }')
		# shellcheck disable=SC2086
		$PIN_LOAD "$LG" http -p 0 -t "$ADMIN_PORT" -c "$ADMIN_SCRAPERS" \
		    -u "$ADMIN_PATHS" $am_k -d "$am_d" -w 0 -n 50000000 \
		    -x "$ECHOD_PID" -r "$PROXY_PID" \
		    >"$TMP/scrape.out" 2>"$TMP/scrape.err" &
		SCRAPE_PID=$!
		pid_add "$SCRAPE_PID"
		sleep 0.5
	fi
	OURS="-x $ECHOD_PID${SCRAPE_PID:+,$SCRAPE_PID} -r $PROXY_PID"
	run_lg tunnel -p "$PROXY_PORT" $OURS -t "$ECHO_PORT" -c "$CONC" \
		-d "$T_TUN" -w "$WARM" -n 3000000
	am_ok=0
	note_errors "$am_r" pinhole "$am_m" "$am_m" && am_ok=1
	am_line="  $am_m tunnels/s $(kv rate)  p50 $(kv p50_us)us p99 $(kv p99_us)us  err $(kv err)  $(cpu_text)"
	if [ "$am_ok" = 1 ]; then
		record "$am_r" pinhole "$am_m" "$(kv rate)"
		record "$am_r" pinhole "${am_m}_p50" "$(kv p50_us)"
		record "$am_r" pinhole "${am_m}_p99" "$(kv p99_us)"
		record_cpu "$am_r" pinhole "$am_m"
	fi
	say "$am_line"
	[ -n "$SCRAPE_PID" ] || return 0
	wait "$SCRAPE_PID"
	pid_del "$SCRAPE_PID"
	SCRAPE_PID=""
	LG_OUT=$(cat "$TMP/scrape.out")
	if [ -z "$LG_OUT" ]; then
		printf 'round %s %s: the scraper failed: %s\n' "$am_r" "$am_m" \
		    "$(tail -n 2 "$TMP/scrape.err" | tr '\n' ' ')" >>"$NOTES"
		return 0
	fi
	record "$am_r" pinhole "scrapes_$am_m" "$(kv rate)"
	record "$am_r" pinhole "screrr_$am_m" "$(kv err)"
	record "$am_r" pinhole "scrcpu_$am_m" "$(kv client_cpu)"
	[ "$(kv err)" != 0 ] && printf 'round %s pinhole %s: scraper errors: %s\n' \
	    "$am_r" "$am_m" "$(printf '%s\n' "$LG_OUT" | tr ' ' '\n' |
	    grep '^err_' | tr '\n' ' ')" >>"$NOTES"
	say "    scrapes/s $(kv rate) (p50 $(kv p50_us)us p99 $(kv p99_us)us)" \
	    "reconnects $(kv reconnects) err $(kv err)  scraper CPU" \
	    "$(kv client_cpu)"
}

admin_round() {	# round
	ar_r=$1
	say "round $ar_r: pinhole with admin"
	wait_quiet
	ADMIN_PORT=$(freeports 1)
	PINHOLE_EXTRA="admin 127.0.0.1:$ADMIN_PORT"
	if ! start_proxy pinhole; then
		printf 'round %s pinhole: failed to start (see above)\n' "$ar_r" \
		    >>"$NOTES"
		PINHOLE_EXTRA=""
		return
	fi
	if ! "$LG" waitport "$ADMIN_PORT" 5000; then
		printf 'round %s: the admin interface did not listen\n' "$ar_r" \
		    >>"$NOTES"
		stop_proxy
		PINHOLE_EXTRA=""
		return
	fi
	admin_measure "$ar_r" tun_none none
	for ar_m in $ADMIN_MODES; do
		admin_measure "$ar_r" "tun_$ar_m" "$ar_m"
	done
	kill -0 "$PROXY_PID" 2>/dev/null ||
	    printf 'round %s pinhole: died during the round\n' "$ar_r" >>"$NOTES"
	stop_proxy
	PINHOLE_EXTRA=""
}

# Tunnel-rate drop in % of metric $1 against the baseline on the same
# process: 100 * (1 - median of the per-round ratios), 1 decimal, or "-".
drop() {
	dr_q=$(paired_ratio pinhole "$1" tun_none)
	if [ "$dr_q" = - ]; then echo -
	else awk -v q="$dr_q" 'BEGIN { printf "%.1f\n", 100 * (1 - q) }'; fi
}

admin_report() {
	AR2="$TMP/report-admin"
	{
		say "pinhole admin bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs, $PIN_NOTE"
		say "rounds $ROUNDS (medians), ${T_TUN}s per number after" \
		    "${WARM}s warm-up, tunnel concurrency $CONC, took ${ADMIN_ELAPSED}s"
		say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1)" \
		    "($PINHOLE_ORIG), core config + admin 127.0.0.1:PORT"
		say "scrapers: $ADMIN_SCRAPERS clients, each looping GET" \
		    "$(printf '%s' "$ADMIN_PATHS" | sed 's/,/ and /') (alternating)" \
		    "with no pause, from 0.5 s before the tunnel run until after" \
		    "it; one loadgen pinned with loadgen and the origin (CPU 1)"
		if grep -q '^[0-9]* [a-z]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any, and numbers marked ! had none (not reliable)"
		fi
		say ""
		printf '%-34s %11s %15s %9s %10s %9s %11s\n' scraping tunnels/s \
		    "p50/p99 ms" "drop %" scrapes/s "scr. err" "CPU 0/1"
		arow2() {	# label metric
			ar_p50=$(median pinhole "${2}_p50")
			ar_p99=$(median pinhole "${2}_p99")
			if [ -z "$ar_p50" ]; then ar_l=-
			else ar_l="$(ms "$ar_p50")/$(ms "$ar_p99")"; fi
			ar_d=-
			[ "$2" = tun_none ] ||
			    ar_d=$(drop "$2")
			ar_s=$(median pinhole "scrapes_$2")
			ar_e=$(values pinhole "screrr_$2" | awk '{ s += $1 } END { if (NR) print s }')
			printf '%-34s %11s %15s %9s %10s %9s %11s\n' "$1" \
			    "$(cell pinhole "$2" 0)" "$ar_l" "$ar_d" \
			    "$(fmt "$ar_s" 0)" "${ar_e:--}" \
			    "$(fmt "$(median pinhole "cpu0_$2")" 2)/$(fmt "$(median pinhole "cpu1_$2")" 2)"
		}
		arow2 "none" tun_none
		for ar_m in $ADMIN_MODES; do
			case "$ar_m" in
			close) ar_lab="$ADMIN_SCRAPERS, new connection each" ;;
			*) ar_lab="$ADMIN_SCRAPERS, keep-alive" ;;
			esac
			arow2 "$ar_lab" "tun_$ar_m"
		done
		say ""
		say "drop % = 1 - tunnels/s with scrapers / tunnels/s without on the" \
		    "same process, median over rounds; scr. err = scraper errors" \
		    "summed over the rounds"
		say "(timeouts: a scrape unanswered for 5 s). The scrapers share" \
		    "CPU 1 with loadgen and the origin, so part of a drop can be" \
		    "the harness's: see CPU 1."
		if ran pinhole; then
			say ""
			say "targets (pinhole):"
			for ar_m in $ADMIN_MODES; do
				ar_d=$(drop "tun_$ar_m")
				ar_lab="tunnel-rate drop, 200 scrapers ($ar_m) < 5%"
				if [ "$ar_d" = - ]; then
					printf '  %-52s %s\n' "$ar_lab" "n/a (missing data)"
				elif awk -v d="$ar_d" 'BEGIN { exit !(d + 0 < 5) }'; then
					printf '  %-52s %-8s (%s%% < 5%%)\n' "$ar_lab" MET "$ar_d"
				else
					printf '  %-52s %-8s (%s%% < 5%%)\n' "$ar_lab" "NOT MET" "$ar_d"
				fi
			done
		fi
		if [ -s "$NOTES" ]; then
			say ""
			say "* = errors in at least one round, ! = in every round" \
			    "other processes used more than $BG_MAX CPUs" \
			    "(unreliable); notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$AR2"
	{
		cat "$AR2"
		say ""
		say "per-round values (round target metric value; _p50/_p99 in us," \
		    "scrapes_ = scrapes/s, screrr_ = scraper errors, scrcpu_ =" \
		    "scraper CPUs, cpu0/cpu1 = busy fraction, bg = CPUs used by" \
		    "other processes, err = error count):"
		sed 's/^/  /' "$RAW"
	} >"$AR2.full"
	say ""
	cat "$AR2"
	if ! ran pinhole; then
		err "no admin measurement succeeded; results/latest-admin.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null &&
	    cp "$AR2.full" "$HERE/results/latest-admin.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest-admin.txt" \
		    "(with the per-round values)"
	else
		err "could not write $HERE/results/latest-admin.txt"
	fi
	return 0
}

# The whole suite; 1 when it could not measure anything.
admin_suite() {
	RAW="$TMP/raw-admin"
	NOTES="$TMP/notes-admin"
	: >"$RAW"
	: >"$NOTES"
	ADMIN_START=$(date +%s)
	say ""
	say "pinhole admin bench: $ROUNDS round(s), ${T_TUN}s per number" \
	    "(+${WARM}s warm-up), concurrency $CONC, $ADMIN_SCRAPERS scrapers;" \
	    "$PIN_NOTE"
	if [ "$PINHOLE_OK" != 1 ]; then
		err "the admin suite needs pinhole: $PINHOLE_WHY"
		return 1
	fi
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		admin_round "$round"
		round=$((round + 1))
	done
	ADMIN_ELAPSED=$(( $(date +%s) - ADMIN_START ))
	admin_report
}
