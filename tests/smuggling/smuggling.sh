# tests/smuggling/smuggling.sh - what the smuggling scenarios
# (tests/scenarios/smuggling-corpus-*.sh) share, sourced after harness.sh:
#
#     start_recorder VAR [--cert PEM --key PEM]
#         starts the recording origin (tests/smuggling/recorder.py) on a free
#         loopback port, $VAR; it logs what it receives to $T/VAR.jsonl
#     corpus_hosts ADDR DOMAIN
#         hosts-file lines for the origin names the runner gives the
#         variants: vN.DOMAIN and wN.DOMAIN (variant N, and a second name of
#         the same origin), all at ADDR
#     run_corpus MODE --origin NAME:PORT [RUNNER OPTIONS...]
#         runs the corpus through pinhole on $PH_PORT (tests/smuggling/run.py)
#         and fails the scenario if a variant failed; the runner's report
#         is printed either way
#
# PH_SMUGGLE_ONLY=ID[,ID...] (shell patterns) runs only those variants.

PH_SMUGGLING=$PH_SRCDIR/tests/smuggling

start_recorder() {
	local var=$1 i
	shift
	rm -f "$T/$var.port"
	spawn "$var" "$PY" "$PH_SMUGGLING/recorder.py" --port-file "$T/$var.port" \
		--log "$T/$var.jsonl" "$@"
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$var.port" ] && break
		if ! alive "$SPAWNED_PID"; then
			reap "$SPAWNED_PID"
			cat "$T/$var.err" >&2
			fail "the recording origin $var exited with status $WAIT_RC"
		fi
		sleep 0.1
	done
	[ -s "$T/$var.port" ] || fail "the recording origin $var did not start"
	printf -v "$var" '%s' "$(cat "$T/$var.port")"
	RECORDER_LOG=$T/$var.jsonl
	touch "$RECORDER_LOG"
}

corpus_hosts() {
	local n i
	n=$("$PY" "$PH_SMUGGLING/run.py" --count) || fail "cannot read the smuggling corpus"
	for ((i = 1; i <= n; i++)); do
		hosts_entry "$1" "v$i.$2" "w$i.$2"
	done
}

run_corpus() {
	local mode=$1 rc
	shift
	"$PY" "$PH_SMUGGLING/run.py" --mode "$mode" --proxy "127.0.0.1:$PH_PORT" \
		--log "$RECORDER_LOG" --results "$T/results.json" \
		${PH_SMUGGLE_ONLY:+--only "$PH_SMUGGLE_ONLY"} "$@" >"$T/corpus.out" 2>&1
	rc=$?
	cat "$T/corpus.out"
	[ "$rc" = 0 ] || fail "$(tail -n 1 "$T/corpus.out")"
}
