#!/bin/sh
# run.sh - pinhole benchmark driver (`make bench`): builds loadgen and echod,
# runs pinhole, Squid, tinyproxy and a direct connection side by side on
# loopback in interleaved rounds, prints medians, ratios, the CPU time each
# side spent per tunnel, request and MB, and the targets, and writes the
# table to contrib/bench/results/latest.txt. Not a test.  The costs that
# must not grow with the work (--suite scale: a 100,000-name domain-file,
# 4,096 report clients, a full learned-domain table) are scale.sh's, 1 and
# 2 workers on the whole machine (--suite workers) workers.sh's, what the
# harness's own choices do to the ratios (--suite baseline) baseline.sh's,
# the proxy-authentication suite (--suite auth) auth.sh's, the TLS
# inspection suite (--suite tls) tls.sh's, the admin-interface suite
# (--suite admin) admin.sh's and the parent-proxy suite (--suite chain)
# chain.sh's.

set -u

usage() {
	cat <<'EOF'
usage: sh contrib/bench/run.sh [--quick] [--rounds N] [--targets LIST]
                               [--suite core|scale|workers|baseline|auth|tls|admin|chain|all]
                               [--auth] [--profile] [--quiet-wait SECS]
                               [--keep-tmp] [--help]
  --quick         one short round of each suite (a smoke test: core about
                  2 minutes, scale 1, workers 1, auth and tls 1.5, admin 0.5)
  --suite S       a comma list of: core (tunnels, bulk both ways, memory,
                  keep-alive, CPU per tunnel/request/MB; results/latest.txt),
                  scale (pinhole with a 100,000-name domain-file, 4,096
                  report clients, a full learned-domain table; list load,
                  reload and RSS; results/latest-scale.txt), workers (1 and
                  2 workers, nothing pinned; results/latest-workers.txt),
                  baseline (the harness's choices: direct pinned or not,
                  read sizes, tunnels, warm-up; results/latest-baseline.txt),
                  auth (Basic, NTLM and Negotiate, pinhole against Squid;
                  results/latest-auth.txt), tls (TLS inspection handshakes,
                  pinhole against Squid's ssl_bump, and spliced tunnels;
                  results/latest-tls.txt), admin (tunnels/s under 200
                  concurrent admin scrapes; results/latest-admin.txt),
                  chain (tunnels through a parent: pinhole->pinhole,
                  pinhole->Squid, Squid->Squid, ratios only;
                  results/latest-chain.txt); or all.  Default:
                  core,scale,workers.  --auth = --suite auth
  --rounds N      interleaved rounds (default 5; medians over them)
  --targets LIST  comma list from direct,pinhole,squid,tinyproxy,relay
                  (all by default; relay: a bare CONNECT relay in echod,
                  the ceiling this harness allows a proxy; no plain HTTP)
  --quiet-wait S  before each target, wait up to S seconds for other
                  processes to leave the CPUs alone (default 15, 0 = off;
                  at most 30 s in a whole run)
  --keep-tmp      keep the temporary directory (configs, logs, raw output)
  --profile       core suite, last round: perf record -g of pinhole during
                  tunnels, bulk and keep-alive; the top symbols go to
                  results/profile-{tunnels,bulk,bulkup,http}.txt (needs perf)
environment: PINHOLE (binary, default ./src/pinhole), CC (default cc),
  BENCH_CONC (tunnel/http concurrency, default 50), BENCH_RCACHE (auth
  suite: Kerberos replay cache of both proxies, none (default) or file)
EOF
}

# ---- options ----------------------------------------------------------------

ROUNDS=5
QUICK=0
PROFILE=0
KEEP=0
TARGETS="direct,pinhole,squid,tinyproxy,relay"
ROUNDS_SET=0
SUITE=core,scale,workers
QUIET_WAIT=15
QUIET_BUDGET=30
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--rounds)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		ROUNDS=$2; ROUNDS_SET=1; shift ;;
	--rounds=*) ROUNDS=${1#--rounds=}; ROUNDS_SET=1 ;;
	--targets)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		TARGETS=$2; shift ;;
	--targets=*) TARGETS=${1#--targets=} ;;
	--suite)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		SUITE=$2; shift ;;
	--suite=*) SUITE=${1#--suite=} ;;
	--auth) SUITE=auth ;;
	--quiet-wait)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		QUIET_WAIT=$2; shift ;;
	--quiet-wait=*) QUIET_WAIT=${1#--quiet-wait=} ;;
	--keep-tmp) KEEP=1 ;;
	--profile) PROFILE=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
case "$ROUNDS" in
''|*[!0-9]*|0) echo "bench: --rounds needs a positive integer" >&2; exit 2 ;;
esac
for t in $(printf '%s' "$TARGETS" | tr ',' ' '); do
	case "$t" in
	direct|pinhole|squid|tinyproxy|relay) ;;
	*) echo "bench: unknown target '$t' (direct, pinhole, squid," \
	       "tinyproxy, relay)" >&2; exit 2 ;;
	esac
done
case "$QUIET_WAIT" in
''|*[!0-9]*) echo "bench: --quiet-wait needs seconds" >&2; exit 2 ;;
esac
case "$SUITE" in
all) SUITE=core,scale,workers,baseline,auth,tls,admin,chain ;;
esac
SUITE_CORE=0; SUITE_AUTH=0; SUITE_TLS=0; SUITE_ADMIN=0; SUITE_CHAIN=0
SUITE_SCALE=0; SUITE_WORKERS=0; SUITE_BASELINE=0
for s in $(printf '%s' "$SUITE" | tr ',' ' '); do
	case "$s" in
	core) SUITE_CORE=1 ;;
	scale) SUITE_SCALE=1 ;;
	workers) SUITE_WORKERS=1 ;;
	baseline) SUITE_BASELINE=1 ;;
	auth) SUITE_AUTH=1 ;;
	tls) SUITE_TLS=1 ;;
	admin) SUITE_ADMIN=1 ;;
	chain) SUITE_CHAIN=1 ;;
	*) echo "bench: unknown suite '$s' (core, scale, workers, baseline," \
	       "auth, tls, admin, chain, all)" >&2
	   exit 2 ;;
	esac
done
if [ "$SUITE_CORE$SUITE_SCALE$SUITE_WORKERS$SUITE_BASELINE$SUITE_AUTH$SUITE_TLS$SUITE_ADMIN$SUITE_CHAIN" = 00000000 ]; then
	echo "bench: --suite needs core, scale, workers, baseline, auth, tls," \
	    "admin, chain or all" >&2
	exit 2
fi

# durations in seconds: measured part and warm-up (not counted)
if [ "$QUICK" = 1 ]; then
	[ "$ROUNDS_SET" = 1 ] || ROUNDS=1
	T_TUN=5; T_BULK=3; T_HTTP=5; WARM=0.5; SETTLE=1
else
	T_TUN=7; T_BULK=5; T_HTTP=7; WARM=1; SETTLE=2
fi
CONC=${BENCH_CONC:-50}
case "$CONC" in
''|*[!0-9]*|0) echo "bench: BENCH_CONC needs a positive integer" >&2; exit 2 ;;
esac
BULK_TUNNELS=8
BG_MAX=0.10	# CPUs of foreign load above which a number is flagged
IDLE_STEPS="5000,9000"

want_target() {
	case ",$TARGETS," in *",$1,"*) return 0 ;; esac
	return 1
}

# ---- environment ------------------------------------------------------------

HERE=$(cd "$(dirname "$0")" && pwd) || exit 2
PINHOLE=${PINHOLE:-./src/pinhole}
case "$PINHOLE" in
/*) ;;
*) PINHOLE="$(pwd)/${PINHOLE#./}" ;;
esac
CC=${CC:-cc}

say() { printf '%s\n' "$*"; }
err() { printf 'bench: error: %s\n' "$*" >&2; }

# Every process we start is recorded here and stopped by PID on exit.
PIDS=""
TMP=""
cleanup() {
	trap - EXIT INT TERM HUP PIPE
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	i=0
	while [ $i -lt 30 ]; do
		alive=""
		for p in $PIDS; do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for p in $PIDS; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	PIDS=""
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ "$KEEP" = 1 ]; then
			say "bench: kept $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
}
trap cleanup EXIT
trap 'err "interrupted"; cleanup; exit 130' INT
trap 'err "terminated"; cleanup; exit 143' TERM
trap 'cleanup; exit 129' HUP
trap 'cleanup; exit 141' PIPE	# e.g. piped into head

pid_add() { PIDS="$PIDS $1"; }
pid_del() {
	n=""
	for p in $PIDS; do
		[ "$p" = "$1" ] || n="$n $p"
	done
	PIDS=$n
}

# Stop one process we started (and any children it left): TERM, then KILL.
stop_pid() {
	sp=$1
	kids=$(ps -o pid= --ppid "$sp" 2>/dev/null)
	kill -TERM "$sp" 2>/dev/null
	i=0
	while kill -0 "$sp" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$sp" 2>/dev/null && kill -KILL "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null
	for k in $kids; do
		kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null
	done
	pid_del "$sp"
}

# Raise the open-files limit to the hard limit for us and every child.
HARD=$(ulimit -Hn)
if [ "$HARD" = unlimited ]; then
	ulimit -n 20000 2>/dev/null
else
	ulimit -n "$HARD" 2>/dev/null
fi
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt 19000 ]; then
	say "bench: note: open-files limit is $NOFILE; 9000 idle tunnels" \
	    "need about 19000 for the proxy (expect idle-tunnel failures)"
fi

# CPU pinning: proxy on CPU 0, load generator and origin on CPU 1.
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if command -v taskset >/dev/null 2>&1 && [ "$NCPU" -ge 2 ]; then
	PIN_PROXY="taskset -c 0"
	PIN_LOAD="taskset -c 1"
	PIN_NOTE="proxy on CPU 0, loadgen+origin on CPU 1"
else
	PIN_PROXY=""
	PIN_LOAD=""
	PIN_NOTE="no pinning (needs taskset and 2 CPUs)"
	say "bench: note: $PIN_NOTE"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pinhole-bench.XXXXXX") || {
	err "mktemp failed"; exit 2; }
chmod 755 "$TMP"	# squid and tinyproxy may drop to another user
RAW="$TMP/raw"		# one line per measurement: round target metric value
: >"$RAW"
NOTES="$TMP/notes"
: >"$NOTES"

# ---- build ------------------------------------------------------------------

CFLAGS_B="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra"
for t in loadgen echod; do
	if ! $CC $CFLAGS_B -o "$TMP/$t" "$HERE/$t.c" 2>"$TMP/build-$t.log"; then
		err "building $t failed:"
		cat "$TMP/build-$t.log" >&2
		exit 2
	fi
done
LG="$TMP/loadgen"

freeports() {
	"$LG" freeport "$1" || { err "no free loopback port"; exit 2; }
}

# ---- origin -----------------------------------------------------------------

PORTS=$(freeports 4)
# shellcheck disable=SC2086
set -- $PORTS
if [ $# -ne 4 ]; then
	err "could not pick free loopback ports"
	exit 2
fi
ECHO_PORT=$1
SRC_PORT=$2
HTTP_PORT=$3
SINK_PORT=$4
$PIN_LOAD "$TMP/echod" -e "$ECHO_PORT" -s "$SRC_PORT" -H "$HTTP_PORT" \
	-k "$SINK_PORT" -t 7200 >"$TMP/echod.log" 2>&1 &
ECHOD_PID=$!
pid_add "$ECHOD_PID"
for p in "$ECHO_PORT" "$SRC_PORT" "$HTTP_PORT" "$SINK_PORT"; do
	if ! "$LG" waitport "$p" 5000; then
		err "echod did not listen on 127.0.0.1:$p within 5 s"
		cat "$TMP/echod.log" >&2
		exit 2
	fi
done

# ---- proxies ----------------------------------------------------------------

PROXY_PID=""
PROXY_PORT=""
# The auth suite's additions: pinhole's auth directive, Squid's auth_param
# and access lines in place of its open-proxy rule.
PINHOLE_AUTH=""
SQUID_ACCESS="http_access allow all"
# The tls and admin suites' additions: more pinhole lines (tls-inspect,
# admin...), options of Squid's http_port (ssl-bump...), more Squid lines,
# and Squid's access log (on only to check that Squid really bumps).
PINHOLE_EXTRA=""
PINHOLE_WORKERS=1
PINHOLE_RULES=""	# scale.sh: rules before the open ones
SQUID_PORT_OPTS=""
SQUID_EXTRA=""
SQUID_ACCESS_LOG=none

# The origin is on loopback, which pinhole refuses unless a rule names it
# (dst-local); Squid and tinyproxy are configured as open proxies too.
write_pinhole_conf() {
	cat >"$TMP/pinhole.conf" <<EOF
# written by contrib/bench/run.sh
listen 127.0.0.1:$1
workers $PINHOLE_WORKERS
access-log off
$PINHOLE_RULES
allow dst-local
allow all
max-connections 19000
timeout tunnel-idle 10m
$PINHOLE_AUTH
$PINHOLE_EXTRA
EOF
}

write_squid_conf() {
	: >"$TMP/squid-cache.log"
	chmod 666 "$TMP/squid-cache.log"
	cat >"$TMP/squid.conf" <<EOF
# written by contrib/bench/run.sh: open proxy, no cache, no logging
http_port 127.0.0.1:$1$SQUID_PORT_OPTS
$SQUID_ACCESS
$SQUID_EXTRA
cache deny all
access_log $SQUID_ACCESS_LOG
cache_store_log none
cache_log $TMP/squid-cache.log
pid_filename $TMP/squid.pid
coredump_dir $TMP
workers 1
max_filedescriptors 20000
shutdown_lifetime 0 seconds
pinger_enable off
visible_hostname localhost
EOF
}

write_tinyproxy_conf() {
	cat >"$TMP/tinyproxy.conf" <<EOF
# written by contrib/bench/run.sh: no ConnectPort = all ports allowed
Port $1
Listen 127.0.0.1
Timeout 600
MaxClients 19000
LogLevel Critical
PidFile "$TMP/tinyproxy.pid"
EOF
}

PINHOLE_OK=0
PINHOLE_WHY=""
PINHOLE_ORIG=$PINHOLE
check_pinhole() {
	if [ ! -x "$PINHOLE" ]; then
		PINHOLE_WHY="binary $PINHOLE not found (set PINHOLE=)"
		return 1
	fi
	# run a private copy, so a rebuild during the run changes nothing
	if cp "$PINHOLE" "$TMP/pinhole" 2>/dev/null &&
	    "$TMP/pinhole" version >/dev/null 2>&1; then
		PINHOLE_ORIG=$PINHOLE
		PINHOLE="$TMP/pinhole"
	fi
	write_pinhole_conf 3128
	if ! "$PINHOLE" validate -c "$TMP/pinhole.conf" \
	    >"$TMP/pinhole-validate.log" 2>&1; then
		PINHOLE_WHY="'pinhole validate' rejected the bench config: $(
		    head -n 3 "$TMP/pinhole-validate.log" | tr '\n' ' ')"
		return 1
	fi
	return 0
}

# squid lives in sbin, which a non-root PATH may lack
find_prog() {
	command -v "$1" 2>/dev/null && return 0
	for d in /usr/sbin /sbin /usr/local/sbin; do
		[ -x "$d/$1" ] && { printf '%s\n' "$d/$1"; return 0; }
	done
	return 1
}
SQUID_OK=0
SQUID_WHY=""
if SQUID=$(find_prog squid); then SQUID_OK=1
else SQUID_WHY="squid not installed (apt-get install squid)"; fi
TINY_OK=0
TINY_WHY=""
if TINYPROXY=$(find_prog tinyproxy); then TINY_OK=1
else TINY_WHY="tinyproxy not installed (apt-get install tinyproxy)"; fi
if want_target pinhole; then
	if check_pinhole; then PINHOLE_OK=1; fi
fi

# Start proxy $1 on a fresh port; sets PROXY_PID/PROXY_PORT. 1 on failure.
start_proxy() {
	PROXY_PORT=$(freeports 1)
	if [ -z "$PROXY_PORT" ]; then
		err "could not pick a free loopback port"
		return 1
	fi
	log="$TMP/$1.log"
	case "$1" in
	pinhole)
		write_pinhole_conf "$PROXY_PORT"
		$PIN_PROXY "$PINHOLE" run -c "$TMP/pinhole.conf" \
			>>"$log" 2>&1 &
		;;
	squid)
		write_squid_conf "$PROXY_PORT"
		$PIN_PROXY "$SQUID" -N -f "$TMP/squid.conf" >>"$log" 2>&1 &
		;;
	tinyproxy)
		write_tinyproxy_conf "$PROXY_PORT"
		$PIN_PROXY "$TINYPROXY" -d -c "$TMP/tinyproxy.conf" \
			>>"$log" 2>&1 &
		;;
	relay)
		$PIN_PROXY "$TMP/echod" -R "$PROXY_PORT" -t 3600 \
			>>"$log" 2>&1 &
		;;
	esac
	PROXY_PID=$!
	pid_add "$PROXY_PID"
	if ! "$LG" waitport "$PROXY_PORT" 15000; then
		err "$1 did not accept on 127.0.0.1:$PROXY_PORT within 15 s;" \
		    "last log lines:"
		tail -n 5 "$log" >&2
		[ "$1" = squid ] && tail -n 5 "$TMP/squid-cache.log" >&2
		stop_pid "$PROXY_PID"
		PROXY_PID=""
		return 1
	fi
	if ! kill -0 "$PROXY_PID" 2>/dev/null; then
		err "$1 exited right after start"
		tail -n 5 "$log" >&2
		PROXY_PID=""
		return 1
	fi
	return 0
}

stop_proxy() {
	[ -n "$PROXY_PID" ] && stop_pid "$PROXY_PID"
	PROXY_PID=""
}

# ---- measurements -----------------------------------------------------------

# Run the load generator in the background so signals reach our traps.
LG_OUT=""
run_lg() {
	$PIN_LOAD "$LG" "$@" >"$TMP/lg.out" 2>"$TMP/lg.err" &
	lp=$!
	pid_add "$lp"
	wait "$lp"
	rc=$?
	pid_del "$lp"
	LG_OUT=$(cat "$TMP/lg.out")
	return $rc
}

# Extract key=value from the last loadgen line.
kv() {
	printf '%s\n' "$LG_OUT" | tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1
}

record() {	# round target metric value
	printf '%s %s %s %s\n' "$1" "$2" "$3" "$4" >>"$RAW"
}

# Check the last loadgen output; note errors and background CPU load.
# Returns 1 when loadgen produced nothing.
note_errors() {	# round target label metric...
	ne_r=$1; ne_t=$2; ne_l=$3
	shift 3
	if [ -z "$LG_OUT" ]; then
		printf 'round %s %s %s: loadgen failed: %s\n' "$ne_r" "$ne_t" \
		    "$ne_l" "$(tail -n 2 "$TMP/lg.err" | tr '\n' ' ')" \
		    >>"$NOTES"
		return 1
	fi
	ne_e=$(kv err)
	if [ -n "$ne_e" ] && [ "$ne_e" != 0 ]; then
		printf 'round %s %s %s: %s errors (%s)\n' "$ne_r" "$ne_t" \
		    "$ne_l" "$ne_e" "$(printf '%s\n' "$LG_OUT" | tr ' ' '\n' |
		    grep '^err_' | tr '\n' ' ')" >>"$NOTES"
		for ne_m in "$@"; do
			record "$ne_r" "$ne_t" "err_$ne_m" "$ne_e"
		done
	fi
	# CPU used meanwhile by processes that are not part of the bench
	ne_bg=$(kv bg_cpu)
	if [ -n "$ne_bg" ] && awk -v b="$ne_bg" -v m="$BG_MAX" \
	    'BEGIN { exit !(b + 0 > m + 0) }'; then
		printf 'round %s %s %s: other processes used %s CPUs\n' \
		    "$ne_r" "$ne_t" "$ne_l" "$ne_bg" >>"$NOTES"
		for ne_m in "$@"; do
			record "$ne_r" "$ne_t" "bg_$ne_m" "$ne_bg"
		done
	fi
	return 0
}

# How busy CPU 0 (proxy) and CPU 1 (loadgen+origin) were, interrupts
# included, during the last measurement; and what other processes used.
record_cpu() {	# round target metric
	rc_0=$(kv cpu0_busy)
	rc_1=$(kv cpu1_busy)
	[ -n "$rc_0" ] && record "$1" "$2" "cpu0_$3" "$rc_0"
	[ -n "$rc_1" ] && record "$1" "$2" "cpu1_$3" "$rc_1"
}

cpu_text() {
	printf 'busy cpu0 %s cpu1 %s (other processes %s)' \
	    "$(kv cpu0_busy)" "$(kv cpu1_busy)" "$(kv bg_cpu)"
}

# CPU time per unit of work of each side, from loadgen's proxy_us_UNIT and
# client_us_UNIT (the proxy's process tree; loadgen with the origin):
# recorded as us_p_METRIC and us_c_METRIC.
record_us() {	# round target metric unit
	ru_p=$(kv "proxy_us_$4")
	ru_c=$(kv "client_us_$4")
	[ -n "$ru_p" ] && record "$1" "$2" "us_p_$3" "$ru_p"
	[ -n "$ru_c" ] && record "$1" "$2" "us_c_$3" "$ru_c"
}

us_text() {	# unit
	ut_p=$(kv "proxy_us_$1")
	printf 'CPU us/%s: %s%s' "$1" "${ut_p:+proxy $ut_p, }" \
	    "harness $(kv "client_us_$1")"
}

# perf record of the proxy while loadgen runs (--profile, last round):
# starts it; profile_stop writes the report.
PERF_PID=""
profile_start() {	# round target name seconds
	PERF_PID=""
	[ "$PROFILE" = 1 ] && [ "$1" = "$ROUNDS" ] && [ "$2" = pinhole ] ||
	    return 0
	PERF_NAME=$3
	perf record -g -F 999 -p "$PROXY_PID" -o "$TMP/perf-$3.data" \
	    -- sleep "$4" >"$TMP/perf-$3.log" 2>&1 &
	PERF_PID=$!
	pid_add "$PERF_PID"
}

profile_stop() {
	[ -n "$PERF_PID" ] || return 0
	wait "$PERF_PID"
	pid_del "$PERF_PID"
	PERF_PID=""
	mkdir -p "$HERE/results"
	pf_data="$TMP/perf-$PERF_NAME.data"
	pf_rep() {	# perf report options
		perf report -i "$pf_data" --stdio -g none "$@" 2>/dev/null |
		    grep -v '^#' | grep -v '^$'
	}
	{
		say "# perf record -g -F 999 of pinhole ($PINHOLE_ORIG) during" \
		    "$PERF_NAME, round $ROUNDS, $(date '+%Y-%m-%d %H:%M'); load" \
		    "average $(loadavg)"
		say "# where the time went: kernel, libraries, pinhole"
		pf_rep --no-children --sort dso | head -n 12
		say ""
		say "# self time per symbol (>= 0.7%)"
		pf_rep --no-children --sort dso,symbol --percent-limit 0.7 | head -n 50
		say ""
		say "# time in a symbol and below it (>= 3%): system calls, then what they do"
		pf_rep --children --sort symbol --percent-limit 3 | head -n 60
		say ""
		say "# pinhole's own code only (share of all samples)"
		pf_rep --no-children --dsos pinhole --sort symbol --percent-limit 0.1 | head -n 30
	} >"$HERE/results/profile-$PERF_NAME.txt" 2>&1
	say "  profile: contrib/bench/results/profile-$PERF_NAME.txt"
}

measure_tunnel() {	# round target portarg
	profile_start "$1" "$2" tunnels "$(awk -v w="$WARM" -v t="$T_TUN" 'BEGIN { print w + t }')"
	run_lg tunnel $3 $OURS -t "$ECHO_PORT" -c "$CONC" -d "$T_TUN" \
		-w "$WARM" -n 3000000
	profile_stop
	if note_errors "$1" "$2" tunnel tunnels; then
		mt_r=$(kv rate); mt_50=$(kv p50_us); mt_99=$(kv p99_us)
		record "$1" "$2" tunnels "$mt_r"
		record "$1" "$2" p50 "$mt_50"
		record "$1" "$2" p99 "$mt_99"
		record_cpu "$1" "$2" tunnels
		record_us "$1" "$2" tunnels op
		say "  tunnels/s $mt_r  p50 ${mt_50}us  p99 ${mt_99}us " \
		    "err $(kv err)  $(us_text op)  $(cpu_text)"
	fi
}

# Bulk through 8 tunnels: origin to client (bulk), client to origin (bulkup).
measure_bulk() {	# round target portarg [up]
	if [ "${4:-}" = up ]; then
		mb_m=bulkup; mb_opt="-U -t $SINK_PORT"
	else
		mb_m=bulk; mb_opt="-t $SRC_PORT"
	fi
	profile_start "$1" "$2" "$mb_m" "$(awk -v t="$T_BULK" 'BEGIN { print t + 0.5 }')"
	run_lg bulk $3 $OURS $mb_opt -c "$BULK_TUNNELS" -d "$T_BULK" -w 0.5
	profile_stop
	if note_errors "$1" "$2" "$mb_m" "$mb_m"; then
		mb_v=$(kv mbps)
		[ "$(kv err)" = 0 ] && record "$1" "$2" "$mb_m" "$mb_v"
		record_cpu "$1" "$2" "$mb_m"
		record_us "$1" "$2" "$mb_m" mb
		say "  bulk $([ "$mb_m" = bulk ] && echo "down" || echo "up  ")" \
		    "MB/s $mb_v  err $(kv err)  $(us_text mb)  $(cpu_text)"
	fi
}

measure_http() {
	profile_start "$1" "$2" http "$(awk -v w="$WARM" -v t="$T_HTTP" 'BEGIN { print w + t }')"
	run_lg http $3 $OURS -t "$HTTP_PORT" -c "$CONC" -d "$T_HTTP" \
		-w "$WARM" -n 5000000
	profile_stop
	if note_errors "$1" "$2" http http; then
		mh_r=$(kv rate)
		record "$1" "$2" http "$mh_r"
		record "$1" "$2" http_p50 "$(kv p50_us)"
		record "$1" "$2" http_p99 "$(kv p99_us)"
		record_cpu "$1" "$2" http
		record_us "$1" "$2" http op
		say "  keep-alive req/s $mh_r  p50 $(kv p50_us)us  p99" \
		    "$(kv p99_us)us  reconnects $(kv reconnects)" \
		    "stale $(kv retries)  err $(kv err)  $(us_text op)  $(cpu_text)"
	fi
}

measure_idle() {
	run_lg idle $3 $OURS -t "$ECHO_PORT" -c 100 -k "$IDLE_STEPS" \
		-S "$SETTLE" -d 90
	# memory does not depend on CPU contention: no background flag
	mi_bg=$BG_MAX
	BG_MAX=1000
	note_errors "$1" "$2" idle idle5000 idle9000
	mi_rc=$?
	BG_MAX=$mi_bg
	if [ "$mi_rc" = 0 ]; then
		for mi_k in $(printf '%s' "$IDLE_STEPS" | tr ',' ' '); do
			mi_v=$(kv "kib_per_tunnel_$mi_k")
			[ -n "$mi_v" ] && record "$1" "$2" "idle$mi_k" "$mi_v"
		done
		say "  idle: base $(kv base_kib) KiB," \
		    "@5000 $(kv kib_per_tunnel_5000) KiB/tunnel," \
		    "@9000 $(kv kib_per_tunnel_9000) KiB/tunnel," \
		    "held $(kv held) dropped $(kv dropped) err $(kv err)"
		[ -n "$(kv reached)" ] && printf \
		    'round %s %s idle: only %s of %s tunnels established\n' \
		    "$1" "$2" "$(kv reached)" "$(kv target)" >>"$NOTES"
	fi
}

# Give other processes' CPU bursts a chance to pass (bounded per run).
wait_quiet() {	# round target
	[ "$QUIET_WAIT" -gt 0 ] && [ "$QUIET_BUDGET" -gt 0 ] || return 0
	wq_max=$QUIET_WAIT
	[ "$wq_max" -gt "$QUIET_BUDGET" ] && wq_max=$QUIET_BUDGET
	wq_t0=$(date +%s)
	wq_out=$("$LG" quiet -x "$ECHOD_PID" -d "$wq_max" -m "$BG_MAX")
	wq_rc=$?
	wq_dt=$(( $(date +%s) - wq_t0 ))
	QUIET_BUDGET=$((QUIET_BUDGET - wq_dt))
	if [ "$wq_rc" != 0 ]; then
		say "  machine busy: other processes use" \
		    "$(printf '%s' "$wq_out" | sed -n 's/.*bg_cpu=//p') CPUs;" \
		    "measuring anyway"
	elif [ "$wq_dt" -gt 1 ]; then
		say "  waited ${wq_dt}s for other processes to go quiet"
	fi
}

run_target() {	# round target
	rt_r=$1; rt_t=$2
	OURS="-x $ECHOD_PID"
	case "$rt_t" in
	direct)
		say "round $rt_r: direct"
		wait_quiet
		measure_tunnel "$rt_r" direct "-p 0"
		measure_bulk "$rt_r" direct "-p 0"
		measure_bulk "$rt_r" direct "-p 0" up
		measure_http "$rt_r" direct "-p 0"
		return
		;;
	pinhole) [ "$PINHOLE_OK" = 1 ] || return ;;
	squid) [ "$SQUID_OK" = 1 ] || return ;;
	tinyproxy) [ "$TINY_OK" = 1 ] || return ;;
	relay) ;;
	esac
	say "round $rt_r: $rt_t"
	wait_quiet
	if ! start_proxy "$rt_t"; then
		printf 'round %s %s: failed to start (see above)\n' "$rt_r" \
		    "$rt_t" >>"$NOTES"
		return
	fi
	OURS="-x $ECHOD_PID -r $PROXY_PID"
	# fresh process first: memory per idle tunnel, then the rates
	measure_idle "$rt_r" "$rt_t" "-p $PROXY_PORT"
	sleep 1
	measure_tunnel "$rt_r" "$rt_t" "-p $PROXY_PORT"
	measure_bulk "$rt_r" "$rt_t" "-p $PROXY_PORT"
	measure_bulk "$rt_r" "$rt_t" "-p $PROXY_PORT" up
	# the bare relay only tunnels
	[ "$rt_t" = relay ] || measure_http "$rt_r" "$rt_t" "-p $PROXY_PORT"
	if ! kill -0 "$PROXY_PID" 2>/dev/null; then
		printf 'round %s %s: proxy died during the round\n' "$rt_r" \
		    "$rt_t" >>"$NOTES"
	fi
	stop_proxy
}

# ---- core suite: run --------------------------------------------------------

run_core() {
	START=$(date +%s)
	LOAD_START=$(loadavg)
	say "pinhole bench: $ROUNDS round(s); tunnels ${T_TUN}s, bulk ${T_BULK}s," \
	    "http ${T_HTTP}s (+${WARM}s warm-up), concurrency $CONC; $PIN_NOTE"
	if want_target pinhole && [ "$PINHOLE_OK" != 1 ]; then
		say "bench: skipping pinhole: $PINHOLE_WHY"
	fi
	if want_target squid && [ "$SQUID_OK" != 1 ]; then
		say "bench: skipping squid: $SQUID_WHY"
	fi
	if want_target tinyproxy && [ "$TINY_OK" != 1 ]; then
		say "bench: skipping tinyproxy: $TINY_WHY"
	fi

	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		for t in direct pinhole squid tinyproxy relay; do
			want_target "$t" && run_target "$round" "$t"
		done
		round=$((round + 1))
	done
	ELAPSED=$(( $(date +%s) - START ))
}

# ---- report -----------------------------------------------------------------

# The metric whose background-load flag covers metric $1.
flag_of() {
	case "$1" in
	p50|p99) echo tunnels ;;
	*_p50|*_p99) echo "${1%_p[59][09]}" ;;
	cpu0_*) echo "${1#cpu0_}" ;;
	cpu1_*) echo "${1#cpu1_}" ;;
	us_p_*) echo "${1#us_p_}" ;;
	us_c_*) echo "${1#us_c_}" ;;
	us_*) echo "${1#us_}" ;;
	*) echo "$1" ;;
	esac
}

# Values of metric $2 for target $1: from the rounds without background
# load if there is one, else from all rounds.
values() {
	awk -v t="$1" -v m="$2" -v f="bg_$(flag_of "$2")" '
		$2 == t && $3 == f { bad[$1] = 1 }
		$2 == t && $3 == m { r[++n] = $1; v[n] = $4 }
		END {
			for (i = 1; i <= n; i++)
				if (!(r[i] in bad)) { print v[i]; clean++ }
			if (!clean)
				for (i = 1; i <= n; i++) print v[i]
		}' "$RAW"
}

# median of metric $2 for target $1 over rounds, empty if none
median() {
	values "$1" "$2" | sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			if (NR % 2) x = v[(NR + 1) / 2]
			else x = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.6g\n", x
		}'
}

# a / b with 2 decimals, "-" when either is missing or b is 0
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "-"
		else printf "%.2f\n", a / b }'
}

# Median over rounds of metric $2 / metric $3 of target $1, each round's
# pair measured minutes apart at most: steadier than the ratio of two
# medians when the machine drifts between rounds.  Rounds where either had
# background load are left out if others remain.  2 decimals, "-" if none.
paired_ratio() {
	awk -v t="$1" -v a="$2" -v b="$3" '
		$2 == t && ($3 == "bg_" a || $3 == "bg_" b) { bad[$1] = 1 }
		$2 == t && $3 == a { va[$1] = $4 }
		$2 == t && $3 == b { vb[$1] = $4 }
		END {
			for (r in va) if ((r in vb) && vb[r] + 0 > 0) {
				all[++n] = va[r] / vb[r]
				if (!(r in bad)) clean[++c] = va[r] / vb[r]
			}
			if (c) { n = c; for (i = 1; i <= c; i++) all[i] = clean[i] }
			if (!n) { print "-"; exit }
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && all[j - 1] > all[j]; j--) {
					x = all[j]; all[j] = all[j - 1]; all[j - 1] = x }
			m = n % 2 ? all[(n + 1) / 2] : (all[n / 2] + all[n / 2 + 1]) / 2
			printf "%.2f\n", m
		}' "$RAW"
}

fmt() {	# number format: $1 value, $2 decimals
	if [ -z "$1" ]; then printf '%s' "-"
	else awk -v v="$1" -v d="$2" 'BEGIN { printf "%.*f", d, v }'; fi
}

ms() {	# microseconds -> ms with 2 decimals
	if [ -z "$1" ]; then printf '%s' "-"
	else awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; fi
}

# "*" if a round had errors, "!" if every round had background load
had_err() {	# target metric
	awk -v t="$1" -v m="$2" '$2 == t && $3 == "err_" m { e = 1 }
		$2 == t && $3 == "bg_" m { b[$1] = 1 }
		$2 == t && $3 == m { r[$1] = 1 }
		END {
			if (e) printf "*"
			for (i in r) if (!(i in b)) clean = 1
			if (length(r) && !clean) printf "!"
		}' "$RAW"
}

cell() {	# target metric decimals
	printf '%s%s' "$(fmt "$(median "$1" "$2")" "$3")" "$(had_err "$1" "$2")"
}

latcell() {	# target [p50-metric p99-metric flag-metric]
	p50=$(median "$1" "${2:-p50}"); p99=$(median "$1" "${3:-p99}")
	if [ -z "$p50" ]; then printf '%s' "-"
	else printf '%s/%s%s' "$(ms "$p50")" "$(ms "$p99")" \
	    "$(had_err "$1" "${4:-tunnels}")"; fi
}

ran() {	# did target $1 produce any value
	awk -v t="$1" '$2 == t { f = 1 } END { exit !f }' "$RAW"
}

# "min-max" of metric $2 of target $1 over the rounds used for its median.
spread() {	# target metric decimals
	values "$1" "$2" | sort -g | awk -v d="${3:-0}" '{ v[NR] = $1 }
		END { if (NR) printf "%.*f-%.*f", d, v[1], d, v[NR]; else printf "-" }'
}

loadavg() {
	cut -d' ' -f1-3 /proc/loadavg 2>/dev/null
}

# A target line: label value op limit; MET / NOT MET, n/a without data.
target() {
	if [ -z "$2" ] || [ "$2" = - ] || [ -z "$4" ] || [ "$4" = - ] ||
	    { [ "$3" != ">=" ] && awk -v a="$2" 'BEGIN { exit !(a + 0 == 0) }'; }; then
		printf '  %-52s %s\n' "$1" "n/a (missing data)"
		return
	fi
	if awk -v a="$2" -v b="$4" -v o="$3" 'BEGIN {
	    if (o == ">=") exit !(a + 0 >= b + 0)
	    if (o == "<=") exit !(a + 0 <= b + 0)
	    exit !(a + 0 < b + 0) }'; then
		tv=MET
	else
		tv="NOT MET"
	fi
	printf '  %-52s %-8s (%s %s %s)\n' "$1" "$tv" "$2" "$3" "$4"
}

# Print the core table and write results/latest.txt; 1 when nothing was
# measured at all.
report_core() {
	REPORT="$TMP/report"
	{
		say "pinhole bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs, $PIN_NOTE"
		say "rounds $ROUNDS (medians), tunnels ${T_TUN}s, bulk ${T_BULK}s" \
		    "x$BULK_TUNNELS tunnels each way, http ${T_HTTP}s, concurrency $CONC," \
		    "warm-up ${WARM}s, took ${ELAPSED}s"
		say "load average (1/5/15 min) at the start: $LOAD_START; at the end: $(loadavg)"
		[ "$SQUID_OK" = 1 ] &&
		    say "squid: $("$SQUID" -v 2>/dev/null | head -n 1)"
		[ "$TINY_OK" = 1 ] &&
		    say "tinyproxy: $("$TINYPROXY" -v 2>/dev/null | head -n 1)"
		if [ "$PINHOLE_OK" = 1 ]; then
			say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1)" \
			    "($PINHOLE_ORIG)"
		elif want_target pinhole; then
			say "pinhole: skipped: $PINHOLE_WHY"
		fi
		if grep -q '^[0-9]* [a-z]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any, and numbers marked ! had none (not reliable); the CPU" \
			    "us rows suffer least from it"
		fi
		say ""
		COLS="direct pinhole squid tinyproxy"
		want_target relay && COLS="$COLS relay"
		printf '%-36s' metric
		for t in $COLS; do
			printf ' %11s' "$t"
		done
		printf ' %15s %14s\n' pinhole/direct pinhole/squid
		row() {	# label metric decimals
			printf '%-36s' "$1"
			for t in $COLS; do
				printf ' %11s' "$(cell "$t" "$2" "$3")"
			done
			p=$(median pinhole "$2")
			printf ' %15s %14s\n' "$(ratio "$p" "$(median direct "$2")")" \
			    "$(ratio "$p" "$(median squid "$2")")"
		}
		latrow() {	# label p50 p99 flag
			printf '%-36s' "$1"
			for t in $COLS; do
				printf ' %11s' "$(latcell "$t" "$2" "$3" "$4")"
			done
			pd50=$(ratio "$(median pinhole "$2")" "$(median direct "$2")")
			pd99=$(ratio "$(median pinhole "$3")" "$(median direct "$3")")
			ps50=$(ratio "$(median pinhole "$2")" "$(median squid "$2")")
			ps99=$(ratio "$(median pinhole "$3")" "$(median squid "$3")")
			if [ "$pd50" = - ]; then pd=-; else pd="$pd50/$pd99"; fi
			if [ "$ps50" = - ]; then pq=-; else pq="$ps50/$ps99"; fi
			printf ' %15s %14s\n' "$pd" "$pq"
		}
		row "tunnels/s (64B echo)" tunnels 0
		latrow "tunnel p50 ms / p99 ms" p50 p99 tunnels
		row "  CPU us/tunnel: proxy" us_p_tunnels 1
		row "  CPU us/tunnel: loadgen+origin" us_c_tunnels 1
		row "bulk MB/s, origin->client ($BULK_TUNNELS)" bulk 0
		row "  CPU us/MB: proxy" us_p_bulk 1
		row "  CPU us/MB: loadgen+origin" us_c_bulk 1
		row "bulk MB/s, client->origin ($BULK_TUNNELS)" bulkup 0
		row "  CPU us/MB: proxy" us_p_bulkup 1
		row "  CPU us/MB: loadgen+origin" us_c_bulkup 1
		row "KiB RSS per idle tunnel @5000" idle5000 2
		row "KiB RSS per idle tunnel @9000" idle9000 2
		row "HTTP keep-alive req/s" http 0
		latrow "keep-alive p50 ms / p99 ms" http_p50 http_p99 http
		row "  CPU us/request: proxy" us_p_http 1
		row "  CPU us/request: loadgen+origin" us_c_http 1
		say ""
		say "spread over the rounds (min-max) of pinhole and direct:"
		for m in tunnels bulk bulkup http; do
			printf '  %-8s pinhole %-15s direct %s\n' "$m" \
			    "$(spread pinhole "$m")" "$(spread direct "$m")"
		done
		say ""
		# reference ratios, to compare the harness with other measurements
		for t in squid tinyproxy relay; do
			ran "$t" || continue
			say "$t/direct: tunnels/s $(ratio "$(median $t tunnels)" \
			    "$(median direct tunnels)"), bulk $(ratio \
			    "$(median $t bulk)" "$(median direct bulk)")/$(ratio \
			    "$(median $t bulkup)" "$(median direct bulkup)"), keep-alive" \
			    "req/s $(ratio "$(median $t http)" "$(median direct http)")"
		done
		if ran relay && ran pinhole; then
			say "pinhole/relay (share of the harness ceiling): tunnels/s" \
			    "$(ratio "$(median pinhole tunnels)" \
			    "$(median relay tunnels)"), bulk $(ratio \
			    "$(median pinhole bulk)" "$(median relay bulk)")"
		fi
		say ""
		say "The harness's ceiling: loadgen and the origin share CPU 1 in" \
		    "every column, and through a proxy they do more per unit of work" \
		    "than direct (the CONNECT and its answer, a second wake-up, the" \
		    "bytes crossing CPUs). When CPU 1 is the limit (busy 1.00 below)," \
		    "no proxy can pass direct's CPU us over its own:"
		for t in pinhole squid tinyproxy relay; do
			ran "$t" || continue
			printf '  %-10s tunnels/s %s  bulk %s/%s  keep-alive %s\n' "$t" \
			    "$(ratio "$(median direct us_c_tunnels)" "$(median $t us_c_tunnels)")" \
			    "$(ratio "$(median direct us_c_bulk)" "$(median $t us_c_bulk)")" \
			    "$(ratio "$(median direct us_c_bulkup)" "$(median $t us_c_bulkup)")" \
			    "$(ratio "$(median direct us_c_http)" "$(median $t us_c_http)")"
		done
		say ""
		say "CPU busy, median of tunnels/bulk down/bulk up/http (CPU 0:" \
		    "proxy; CPU 1: loadgen+origin; 1.00 = that side was the limit):"
		for t in $COLS; do
			ran "$t" || continue
			printf '  %-10s CPU 0 %s/%s/%s/%s  CPU 1 %s/%s/%s/%s\n' "$t" \
			    "$(fmt "$(median $t cpu0_tunnels)" 2)" \
			    "$(fmt "$(median $t cpu0_bulk)" 2)" \
			    "$(fmt "$(median $t cpu0_bulkup)" 2)" \
			    "$(fmt "$(median $t cpu0_http)" 2)" \
			    "$(fmt "$(median $t cpu1_tunnels)" 2)" \
			    "$(fmt "$(median $t cpu1_bulk)" 2)" \
			    "$(fmt "$(median $t cpu1_bulkup)" 2)" \
			    "$(fmt "$(median $t cpu1_http)" 2)"
		done
		if ran pinhole; then
			say ""
			say "targets (pinhole):"
			target "tunnels/s >= 0.85x direct" \
			    "$(ratio "$(median pinhole tunnels)" \
			    "$(median direct tunnels)")" ">=" 0.85
			target "tunnels/s >= 2.5x squid" \
			    "$(ratio "$(median pinhole tunnels)" \
			    "$(median squid tunnels)")" ">=" 2.5
			target "tunnel p99 < 2x direct's p99" \
			    "$(ratio "$(median pinhole p99)" \
			    "$(median direct p99)")" "<" 2
			target "keep-alive req/s >= 0.6x direct" \
			    "$(ratio "$(median pinhole http)" \
			    "$(median direct http)")" ">=" 0.6
			target "keep-alive p99 <= 2x direct's p99" \
			    "$(ratio "$(median pinhole http_p99)" \
			    "$(median direct http_p99)")" "<=" 2
			target "bulk origin->client >= 0.9x direct" \
			    "$(ratio "$(median pinhole bulk)" \
			    "$(median direct bulk)")" ">=" 0.9
			target "bulk client->origin >= 0.9x direct" \
			    "$(ratio "$(median pinhole bulkup)" \
			    "$(median direct bulkup)")" ">=" 0.9
			target "KiB RSS per idle tunnel @5000 <= 4" \
			    "$(fmt "$(median pinhole idle5000)" 2)" "<=" 4
			target "KiB RSS per idle tunnel @9000 <= 4" \
			    "$(fmt "$(median pinhole idle9000)" 2)" "<=" 4
		fi
		if [ -s "$NOTES" ]; then
			say ""
			say "* = errors in at least one round, ! = in every round" \
			    "other processes used more than $BG_MAX CPUs" \
			    "(unreliable); notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$REPORT"
	{
		cat "$REPORT"
		say ""
		say "per-round values (round target metric value; p50/p99 in us," \
		    "us_p/us_c = CPU us per unit of the proxy / of loadgen+origin," \
		    "cpu0/cpu1 = busy fraction, bg = CPUs used by other processes," \
		    "err = error count):"
		sed 's/^/  /' "$RAW"
	} >"$REPORT.full"

	say ""
	cat "$REPORT"

	# harness failure: nothing at all was measured (keep the last good report)
	if ! ran direct && ! ran pinhole && ! ran squid && ! ran tinyproxy &&
	    ! ran relay; then
		err "no measurement succeeded; results/latest.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null &&
	    cp "$REPORT.full" "$HERE/results/latest.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest.txt" \
		    "(with the per-round values)"
	else
		err "could not write $HERE/results/latest.txt"
	fi
	return 0
}

# ---- main -------------------------------------------------------------------

RC=0
if [ "$SUITE_CORE" = 1 ]; then
	run_core
	report_core || RC=1
fi
if [ "$SUITE_SCALE" = 1 ]; then
	. "$HERE/scale.sh"
	scale_suite || RC=1
fi
if [ "$SUITE_WORKERS" = 1 ]; then
	. "$HERE/workers.sh"
	workers_suite || RC=1
fi
if [ "$SUITE_BASELINE" = 1 ]; then
	. "$HERE/baseline.sh"
	baseline_suite || RC=1
fi
if [ "$SUITE_AUTH" = 1 ]; then
	. "$HERE/auth.sh"
	auth_suite || RC=1
fi
if [ "$SUITE_TLS" = 1 ]; then
	. "$HERE/tls.sh"
	tls_suite || RC=1
fi
if [ "$SUITE_ADMIN" = 1 ]; then
	. "$HERE/admin.sh"
	admin_suite || RC=1
fi
if [ "$SUITE_CHAIN" = 1 ]; then
	. "$HERE/chain.sh"
	chain_suite || RC=1
fi
stop_pid "$ECHOD_PID"
exit $RC
