# baseline.sh - the baseline suite of the pinhole benchmark (`run.sh --suite
# baseline`): what the harness's own choices do to "pinhole / direct".  The
# same pinhole (pinned to CPU 0) against direct measured three ways (loadgen
# and origin sharing CPU 1 as in the core suite, split over both CPUs, or
# unpinned), and with other read and write sizes, numbers of tunnels,
# warm-up and relay modes (copy, splice, auto).  Two harnesses that differ
# in these choices report different ratios for the same proxy; this table
# says by how much.  results/latest-baseline.txt.  Sourced by run.sh, whose
# helpers it uses; not run on its own.

BL_SMALL=16384 # the small I/O size: a read or write of 16 KiB

# A second origin writing and reading 16 KiB at a time (the core one: 256).
baseline_origin() {
	BL_PORTS=$(freeports 2)
	# shellcheck disable=SC2086
	set -- $BL_PORTS
	BL_SRC=$1
	BL_SINK=$2
	$PIN_LOAD "$TMP/echod" -s "$BL_SRC" -k "$BL_SINK" -z "$BL_SMALL" -t 7200 \
	    >"$TMP/echod-small.log" 2>&1 &
	BL_ECHOD=$!
	pid_add "$BL_ECHOD"
	"$LG" waitport "$BL_SRC" 5000 && "$LG" waitport "$BL_SINK" 5000
}

# Both origins on CPUs $1 (taskset list), loadgen on $2 (empty: anywhere).
baseline_place() {
	[ -n "$PIN_LOAD" ] || return 0
	taskset -p -c "$1" "$ECHOD_PID" >/dev/null 2>&1
	taskset -p -c "$1" "$BL_ECHOD" >/dev/null 2>&1
	BL_LG_PIN=""
	[ -n "$2" ] && BL_LG_PIN="taskset -c $2"
}

# One loadgen run, recorded: round target metric MODE loadgen-arguments...
baseline_run() {
	br_r=$1; br_t=$2; br_m=$3
	shift 3
	br_save=$PIN_LOAD
	PIN_LOAD=$BL_LG_PIN
	run_lg "$@"
	PIN_LOAD=$br_save
	note_errors "$br_r" "$br_t" "$br_m" "$br_m" || return 0
	br_v=$(kv rate)
	[ -n "$br_v" ] || br_v=$(kv mbps)
	record "$br_r" "$br_t" "$br_m" "$br_v"
	record "$br_r" "$br_t" "${br_m}_p99" "$(kv p99_us)"
	record_cpu "$br_r" "$br_t" "$br_m"
	if [ -n "$(kv mbps)" ]; then record_us "$br_r" "$br_t" "$br_m" mb; else record_us "$br_r" "$br_t" "$br_m" op; fi
	say "  $br_m $br_v  $(cpu_text)"
}

# The measurements of one set-up: round target port (0 = direct).
baseline_set() {
	bs_r=$1; bs_t=$2; bs_p=$3
	OURS="-x $ECHOD_PID,$BL_ECHOD"
	[ "$bs_p" = 0 ] || OURS="$OURS -r $PROXY_PID"
	baseline_run "$bs_r" "$bs_t" tun tunnel -p "$bs_p" $OURS -t "$ECHO_PORT" -c "$CONC" -d "$T_TUN" -w "$WARM" \
	    -n 3000000
	baseline_run "$bs_r" "$bs_t" tun_nowarm tunnel -p "$bs_p" $OURS -t "$ECHO_PORT" -c "$CONC" -d "$T_TUN" -w 0 \
	    -n 3000000
	baseline_run "$bs_r" "$bs_t" http http -p "$bs_p" $OURS -t "$HTTP_PORT" -c "$CONC" -d "$T_HTTP" -w "$WARM" \
	    -n 5000000
	for bs_n in 1 8 32; do
		baseline_run "$bs_r" "$bs_t" "down_256k_x$bs_n" bulk -p "$bs_p" $OURS -t "$SRC_PORT" -c "$bs_n" \
		    -d "$T_BULK" -w 0.5
	done
	baseline_run "$bs_r" "$bs_t" down_16k_x8 bulk -p "$bs_p" $OURS -t "$BL_SRC" -B "$BL_SMALL" -c 8 -d "$T_BULK" -w 0.5
	baseline_run "$bs_r" "$bs_t" up_256k_x8 bulk -p "$bs_p" $OURS -U -t "$SINK_PORT" -c 8 -d "$T_BULK" -w 0.5
	baseline_run "$bs_r" "$bs_t" up_16k_x8 bulk -p "$bs_p" $OURS -U -t "$BL_SINK" -B "$BL_SMALL" -c 8 -d "$T_BULK" \
	    -w 0.5
}

baseline_round() {	# round
	bl_r=$1
	# direct, three ways
	for bl_d in shared split unpinned; do
		case "$bl_d" in
		shared) baseline_place 1 1 ;;
		split) baseline_place 0 1 ;;
		unpinned) baseline_place "0-$((NCPU - 1))" "" ;;
		esac
		say "round $bl_r: direct, loadgen and origin $bl_d"
		wait_quiet
		baseline_set "$bl_r" "direct-$bl_d" 0
	done
	baseline_place 1 1
	[ "$PINHOLE_OK" = 1 ] || return 0
	# pinhole pinned, as in the core suite, with each relay mode
	for bl_m in auto copy splice; do
		say "round $bl_r: pinhole, relay $bl_m"
		wait_quiet
		# pinhole's measurement knob: which relay moves tunnel bytes
		PINHOLE_RELAY=$bl_m
		export PINHOLE_RELAY
		start_proxy pinhole
		bl_rc=$?
		unset PINHOLE_RELAY
		if [ "$bl_rc" != 0 ]; then
			printf 'round %s pinhole %s: failed to start\n' "$bl_r" "$bl_m" >>"$NOTES"
			continue
		fi
		baseline_set "$bl_r" "pinhole-$bl_m" "$PROXY_PORT"
		stop_proxy
	done
}

baseline_report() {
	BR="$TMP/report-baseline"
	{
		say "pinhole baseline bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs; pinhole pinned to CPU 0 throughout"
		say "rounds $ROUNDS (medians), tunnels and http ${T_TUN}s, bulk ${T_BULK}s," \
		    "concurrency $CONC, warm-up ${WARM}s unless said, took ${BL_ELAPSED}s"
		say "load average (1/5/15 min) at the start: $BL_LOAD; at the end: $(loadavg)"
		say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1) ($PINHOLE_ORIG)"
		if grep -q '^[0-9]* [a-z-]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any, and numbers marked ! had none (not reliable)"
		fi
		say ""
		say "direct: loadgen and origin on CPU 1 (shared, the core suite's)," \
		    "origin on CPU 0 and loadgen on CPU 1 (split), or anywhere" \
		    "(unpinned).  pinhole: the core suite's pinhole, its relay in its" \
		    "default mode (auto: copy, then splice once a read fills its" \
		    "32 KiB buffer), copy only, or splice only."
		say ""
		printf '%-26s %9s %9s %9s %9s %9s %9s | %6s %6s %6s\n' "" "dir-shr" "dir-split" "dir-unpin" \
		    "ph-auto" "ph-copy" "ph-splice" "/shr" "/split" "/unpin"
		blrow() {	# label metric
			bd=$(median direct-shared "$2"); bs=$(median direct-split "$2")
			bu=$(median direct-unpinned "$2"); ba=$(median pinhole-auto "$2")
			printf '%-26s %9s %9s %9s %9s %9s %9s | %6s %6s %6s\n' "$1" \
			    "$(cell direct-shared "$2" 0)" "$(cell direct-split "$2" 0)" \
			    "$(cell direct-unpinned "$2" 0)" "$(cell pinhole-auto "$2" 0)" \
			    "$(cell pinhole-copy "$2" 0)" "$(cell pinhole-splice "$2" 0)" \
			    "$(ratio "$ba" "$bd")" "$(ratio "$ba" "$bs")" "$(ratio "$ba" "$bu")"
		}
		blrow "tunnels/s, 1 s warm-up" tun
		blrow "tunnels/s, no warm-up" tun_nowarm
		blrow "keep-alive req/s" http
		blrow "MB/s down 256K x1" down_256k_x1
		blrow "MB/s down 256K x8" down_256k_x8
		blrow "MB/s down 256K x32" down_256k_x32
		blrow "MB/s down 16K x8" down_16k_x8
		blrow "MB/s up 256K x8" up_256k_x8
		blrow "MB/s up 16K x8" up_16k_x8
		say ""
		say "/shr, /split, /unpin: pinhole (auto) over direct measured that" \
		    "way.  256K/16K: bytes per read and write of loadgen and the" \
		    "origin; xN: tunnels (connections, direct)."
		say ""
		say "CPU us per tunnel / request / MB (proxy, then loadgen+origin):"
		for bl_m in tun http down_256k_x8 down_16k_x8 up_256k_x8; do
			printf '  %-14s' "$bl_m"
			for bl_t in direct-shared direct-split direct-unpinned pinhole-auto pinhole-copy pinhole-splice; do
				bl_p=$(median "$bl_t" "us_p_$bl_m"); bl_c=$(median "$bl_t" "us_c_$bl_m")
				printf ' %s %s/%s' "$bl_t" "$(fmt "$bl_p" 0)" "$(fmt "$bl_c" 0)"
			done
			printf '\n'
		done
		say ""
		say "CPU busy (CPU 0/CPU 1) of tunnels, http and 256K x8 down:"
		for bl_t in direct-shared direct-split direct-unpinned pinhole-auto pinhole-copy pinhole-splice; do
			ran "$bl_t" || continue
			printf '  %-16s %s/%s  %s/%s  %s/%s\n' "$bl_t" \
			    "$(fmt "$(median "$bl_t" cpu0_tun)" 2)" "$(fmt "$(median "$bl_t" cpu1_tun)" 2)" \
			    "$(fmt "$(median "$bl_t" cpu0_http)" 2)" "$(fmt "$(median "$bl_t" cpu1_http)" 2)" \
			    "$(fmt "$(median "$bl_t" cpu0_down_256k_x8)" 2)" \
			    "$(fmt "$(median "$bl_t" cpu1_down_256k_x8)" 2)"
		done
		if [ -s "$NOTES" ]; then
			say ""
			say "* = errors in at least one round, ! = in every round" \
			    "other processes used more than $BG_MAX CPUs (unreliable); notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$BR"
	{
		cat "$BR"
		say ""
		say "per-round values (round target metric value):"
		sed 's/^/  /' "$RAW"
	} >"$BR.full"
	say ""
	cat "$BR"
	if ! ran direct-shared; then
		err "no baseline measurement succeeded; results/latest-baseline.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null && cp "$BR.full" "$HERE/results/latest-baseline.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest-baseline.txt (with the per-round values)"
	fi
	return 0
}

baseline_suite() {
	RAW="$TMP/raw-baseline"
	NOTES="$TMP/notes-baseline"
	: >"$RAW"
	: >"$NOTES"
	BL_START=$(date +%s)
	BL_LOAD=$(loadavg)
	say ""
	say "pinhole baseline bench: $ROUNDS round(s)"
	if [ -z "$PIN_LOAD" ]; then
		say "bench: baseline: needs taskset and 2 CPUs; skipped"
		return 1
	fi
	baseline_origin || { err "the 16 KiB origin did not start"; return 1; }
	BL_LG_PIN=$PIN_LOAD
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		baseline_round "$round"
		round=$((round + 1))
	done
	baseline_place 1 1
	stop_pid "$BL_ECHOD"
	BL_ELAPSED=$(($(date +%s) - BL_START))
	baseline_report
}
