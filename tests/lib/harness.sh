# tests/lib/harness.sh - the shared harness of pinhole's integration
# scenarios (tests/scenarios/*.sh).  A scenario sources it first:
#
#     . "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
#
# and gets a private temp dir $T, a free proxy port $PH_PORT ($PROXY is
# http://127.0.0.1:$PH_PORT), helpers to start pinhole and test servers on
# loopback, and assertions that say what was expected and what was seen.
# Every process started through the harness is stopped by PID on exit, pass
# or fail; on failure pinhole's stderr, the access log and the servers'
# stderr are printed.  A scenario fails, even if its checks passed, when
# pinhole's stderr holds an AddressSanitizer or UBSan report ("ERROR:
# AddressSanitizer", "runtime error:") or, in an ASan build, a
# LeakSanitizer report (pinhole's exit status is left alone: the report
# itself fails the scenario).  PH_LEAKS_FATAL=0 turns leak reports into a
# printed note.
#
# Config: pinhole_start reads the whole config from stdin and adds nothing;
# the scenario writes its own listen/access-log lines, usually
#     listen 127.0.0.1:$PH_PORT
#     access-log $T/access.log squid
# so what a reader sees is exactly what pinhole parsed (line numbers too).
#
# A scenario, whole (tests/scenarios/NAME.sh, listed in tests/scenarios.am):
#
#     #!/bin/sh
#     # What the user sees, in one to three lines.
#     . "${PH_SRCDIR:-$(dirname "$0")/../..}/tests/lib/harness.sh"
#
#     start_origin WEB http                  # $WEB = its port (origin.py)
#     hosts_entry 127.0.0.1 www.origin.test  # a line of $T/hosts
#     pinhole_start <<EOF
#     listen 127.0.0.1:$PH_PORT
#     access-log $T/access.log squid
#     hosts-file $T/hosts
#     allow all
#     EOF
#     expect_status 200 "http://www.origin.test:$WEB/hello"   # via pinhole
#     log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello "
#     pinhole_stop                           # SIGTERM, exit status 0
#
# start_coturn VAR USER PASSWORD starts a TURN server (coturn, TCP and UDP
# on 127.0.0.1:$VAR, long-term credentials) for WebRTC scenarios; the real
# browsers that use it are in tests/browser (see tests/browser/lib.sh).
#
# Exchanges curl cannot make go through `raw STEP...` (rawclient.py: send,
# expect REGEX, shut, eof...).  Run one scenario by hand from the source
# tree: PINHOLE=/path/to/pinhole sh tests/scenarios/NAME.sh
#
# Environment: PINHOLE (the binary), PH_SRCDIR, PH_BUILDDIR (set by `make
# check`); PH_KEEP=1 keeps $T after the run.  Exit 0 pass, 1 fail, 77 skip
# (only when an external tool is missing: python3, curl, haproxy, IPv6).

# Automake runs scenarios with $(SHELL) (dash on Debian): continue in bash.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi

PH_SRCDIR=${PH_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PH_BUILDDIR=${PH_BUILDDIR:-$PH_SRCDIR}
PINHOLE=${PINHOLE:-$PH_BUILDDIR/src/pinhole}
PH_LIB=$PH_SRCDIR/tests/lib
PY=/usr/bin/python3
SCENARIO=$(basename "$0" .sh)

# A leak report at exit must not turn pinhole's exit status into 1 (the
# report itself is checked below); settings of the caller's come last and win.
LSAN_OPTIONS="exitcode=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
# Leaks fail the scenario whenever pinhole is built with AddressSanitizer
# (whose runtime brings LeakSanitizer), unless PH_LEAKS_FATAL=0.
if [ -z "${PH_LEAKS_FATAL:-}" ] && grep -aqF __asan_init "$PINHOLE" 2>/dev/null; then
	PH_LEAKS_FATAL=1
fi
[ "${PH_LEAKS_FATAL:-}" = 0 ] && PH_LEAKS_FATAL=

# Clients must talk to the proxy under test only, and never read ~/.curlrc.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	no_proxy NO_PROXY

# ---------------------------------------------------------------- outcome

fail() {
	echo "FAIL: $SCENARIO: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $SCENARIO: $*" >&2
	exit 77
}

note() {
	echo "# $*"
}

[ -x "$PY" ] || skip "needs /usr/bin/python3 (apt-get install python3)"
command -v curl >/dev/null || skip "needs curl (apt-get install curl)"
[ -x "$PINHOLE" ] || fail "no pinhole binary at '$PINHOLE' (set PINHOLE)"

T=$(mktemp -d "${TMPDIR:-/tmp}/pinhole-$SCENARIO.XXXXXX") ||
	fail "cannot make a temp dir"

# ---------------------------------------------------------------- processes

PH_PIDS=()
PH_PID=
PH_RUNS=0

# The state letter of a process (R, S, Z...) or nothing if it is gone.
proc_state() {
	local line
	read -r line 2>/dev/null <"/proc/$1/stat" || return 0
	line=${line##*) }
	echo "${line%% *}"
}

# True while PID runs (an exited child not yet reaped counts as gone).
alive() {
	local s
	s=$(proc_state "$1")
	[ -n "$s" ] && [ "$s" != Z ]
}

# wait_gone PID SECONDS: true if PID exits within SECONDS.
wait_gone() {
	local i n=$(($2 * 10))
	for ((i = 0; i < n; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	! alive "$1"
}

# spawn NAME CMD...: runs CMD in the background, stdout and stderr appended
# to $T/NAME.out and $T/NAME.err; its PID is in $SPAWNED_PID and it is
# stopped on exit.
spawn() {
	local name=$1
	shift
	"$@" >>"$T/$name.out" 2>>"$T/$name.err" &
	SPAWNED_PID=$!
	PH_PIDS+=("$SPAWNED_PID")
}

# reap PID: collects an exited child's status into $WAIT_RC and forgets
# the PID (once reaped, the number may be reused by a stranger).
reap() {
	local i
	wait "$1" 2>/dev/null
	WAIT_RC=$?
	for i in "${!PH_PIDS[@]}"; do
		[ "${PH_PIDS[$i]}" = "$1" ] && unset "PH_PIDS[$i]"
	done
	return 0
}

# stop PID: SIGTERM, then SIGKILL after 3 s.
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	wait_gone "$1" 3 || kill -KILL "$1" 2>/dev/null
	reap "$1"
}

PH_SANITIZER_RE='ERROR: AddressSanitizer|runtime error:'
PH_LEAK_RE='ERROR: LeakSanitizer'

ph_dump() {
	local f
	echo "--- $SCENARIO failed; files in ${PH_KEEP:+$T}${PH_KEEP:-\$T (set PH_KEEP=1 to keep them)}"
	for f in "$T"/pinhole*.err; do
		[ -s "$f" ] || continue
		echo "--- pinhole stderr (${f##*/}):"
		tail -n 150 "$f"
	done
	[ -s "$T/pinhole.conf" ] && {
		echo "--- pinhole.conf:"
		cat -n "$T/pinhole.conf"
	}
	for f in "$T"/*.log; do
		[ -s "$f" ] || continue
		echo "--- ${f##*/}:"
		tail -n 60 "$f"
	done
	for f in "$T"/*.err "$T"/*.requests; do
		case ${f##*/} in pinhole* | last.* | raw.*) continue ;; esac
		[ -s "$f" ] || continue
		echo "--- ${f##*/}:"
		tail -n 30 "$f"
	done
} >&2

ph_cleanup() {
	local status=$? pid f
	trap - EXIT
	for pid in "${PH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PH_PIDS[@]}"; do
		wait_gone "$pid" 3 || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for f in "$T"/pinhole*.err; do
		[ -s "$f" ] || continue
		if grep -Eq "$PH_SANITIZER_RE" "$f"; then
			echo "FAIL: $SCENARIO: sanitizer report in ${f##*/}" >&2
			status=1
		elif grep -Eq "$PH_LEAK_RE" "$f"; then
			echo "# note: LeakSanitizer report in ${f##*/}:" >&2
			grep -E "SUMMARY|^(Direct|Indirect) leak|^ +#[0-9]+ .* in [A-Za-z_0-9]+ [^ ]*(src|auth)/" "$f" |
				head -n 40 >&2
			if [ -n "${PH_LEAKS_FATAL:-}" ]; then
				echo "FAIL: $SCENARIO: memory leaks (LeakSanitizer report in ${f##*/}; PH_LEAKS_FATAL=0 makes it a note)" >&2
				status=1
			fi
		fi
	done
	if [ "$status" != 0 ] && [ "$status" != 77 ]; then
		status=1
		ph_dump
	fi
	[ -n "${PH_KEEP:-}" ] || rm -rf "$T"
	exit "$status"
}
trap ph_cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---------------------------------------------------------------- ports

# A port in 20000-32000 with no TCP socket on it (outside the kernel's
# ephemeral range, so outgoing connections do not take it meanwhile).
# Ports handed out but maybe not bound yet are listed, with the scenario's
# PID, in a file every scenario and origin.py consult, so that two of them
# running side by side never pick the same one.
PH_RESERVED_PORTS=${TMPDIR:-/tmp}/pinhole-harness-ports
export PH_RESERVED_PORTS

port_reserved() {
	local port pid
	while read -r port pid; do
		[ "$port" = "$1" ] && kill -0 "$pid" 2>/dev/null && return 0
	done <"$PH_RESERVED_PORTS" 2>/dev/null
	return 1
}

free_port() {
	local i p
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		grep -qs -x "$p" "$T/.ports" && continue
		port_in_use "$p" && continue
		port_reserved "$p" && continue
		echo "$p" >>"$T/.ports"
		echo "$p $$" >>"$PH_RESERVED_PORTS"
		echo "$p"
		return 0
	done
	fail "no free port found"
}

port_in_use() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# True when some socket listens on TCP port $1.
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

ipv6_available() {
	[ -e /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6 &&
		"$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null
}

PH_PORT=$(free_port)
PROXY=http://127.0.0.1:$PH_PORT

# ---------------------------------------------------------------- pinhole

# pinhole_start < CONFIG: writes the config (stdin, used as is) to
# $T/pinhole.conf, runs `$PINHOLE run -c $T/pinhole.conf` in the background
# ($PH_PID) and waits until every `listen` port of the config accepts.
pinhole_start() {
	local ports p i
	cat >"$T/pinhole.conf"
	spawn pinhole "$PINHOLE" run -c "$T/pinhole.conf"
	PH_PID=$SPAWNED_PID
	ports=$(sed -nE 's/^[[:space:]]*listen[[:space:]]+[^[:space:]]*:([0-9]+)([[:space:]].*)?$/\1/p' \
		"$T/pinhole.conf")
	for p in $ports; do
		for ((i = 0; i < 150; i++)); do
			port_listening "$p" && break
			if ! alive "$PH_PID"; then
				reap "$PH_PID"
				fail "pinhole exited (status $WAIT_RC) before listening on port $p"
			fi
			sleep 0.1
		done
		port_listening "$p" || fail "pinhole does not listen on port $p after 15 s"
	done
}

# pinhole_stop [SECONDS]: SIGTERM; pinhole must exit with status 0 within
# SECONDS (default 10).
pinhole_stop() {
	kill -TERM "$PH_PID" 2>/dev/null || fail "pinhole is not running at pinhole_stop"
	wait_gone "$PH_PID" "${1:-10}" ||
		fail "pinhole still runs ${1:-10} s after SIGTERM"
	reap "$PH_PID"
	[ "$WAIT_RC" = 0 ] || fail "pinhole exited with status $WAIT_RC after SIGTERM (expected 0)"
}

# pinhole_reload: SIGHUP, then a second for the reload to take effect.
pinhole_reload() {
	alive "$PH_PID" || fail "pinhole is not running at pinhole_reload"
	kill -HUP "$PH_PID"
	sleep 1
	alive "$PH_PID" || fail "pinhole died after SIGHUP"
}

# run_pinhole ARGS...: runs pinhole in the foreground (at most 20 s); its
# exit status is in $RC, its stdout in $OUT and its stderr in $ERR.
run_pinhole() {
	PH_RUNS=$((PH_RUNS + 1))
	local base="$T/pinhole-run$PH_RUNS"
	timeout 20 "$PINHOLE" "$@" >"$base.out" 2>"$base.err" </dev/null
	RC=$?
	OUT=$(cat "$base.out")
	ERR=$(cat "$base.err")
}

# ---------------------------------------------------------------- servers

# start_origin VAR MODE [OPTION...]: starts tests/lib/origin.py in MODE
# (http, echo, blackhole, dns; see origin.py) and sets VAR to its port.  The
# requests it saw are listed in $T/VAR.requests.
start_origin() {
	local var=$1 mode=$2 i
	shift 2
	rm -f "$T/$var.port"
	spawn "$var" "$PY" "$PH_LIB/origin.py" "$mode" --port-file "$T/$var.port" \
		--log "$T/$var.requests" "$@"
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$var.port" ] && break
		if ! alive "$SPAWNED_PID"; then
			reap "$SPAWNED_PID"
			cat "$T/$var.err" >&2
			fail "origin $var ($mode) exited with status $WAIT_RC"
		fi
		sleep 0.1
	done
	[ -s "$T/$var.port" ] || fail "origin $var ($mode) did not start"
	printf -v "$var" '%s' "$(cat "$T/$var.port")"
	touch "$T/$var.requests"
}

# make_ca: a test CA for this run, $T/ca.pem and $T/ca.key.
make_ca() {
	[ -s "$T/ca.pem" ] && return 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
		-subj "/CN=pinhole test CA $SCENARIO" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign \
		>"$T/openssl.out" 2>&1 || { cat "$T/openssl.out"; fail "cannot make the test CA"; }
}

# make_leaf NAME...: a certificate for the names (first one is the CN)
# signed by the test CA: $T/leaf.pem and $T/leaf.key.
make_leaf() {
	local san="" n
	make_ca
	for n in "$@"; do
		san="$san${san:+,}DNS:$n"
	done
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		"$san" >"$T/leaf.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/leaf.key" -out "$T/leaf.csr" -subj "/CN=$1" \
		>"$T/openssl.out" 2>&1 &&
		openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.pem" \
			-CAkey "$T/ca.key" -set_serial "$RANDOM$RANDOM" -days 2 \
			-extfile "$T/leaf.ext" -out "$T/leaf.pem" >>"$T/openssl.out" 2>&1 ||
		{ cat "$T/openssl.out"; fail "cannot make the certificate for $*"; }
}

# start_tls_origin VAR NAME...: an HTTP origin speaking TLS with a
# certificate for NAME... from the test CA ($T/ca.pem); VAR gets its port.
start_tls_origin() {
	local var=$1
	shift
	make_leaf "$@"
	start_origin "$var" http --cert "$T/leaf.pem" --key "$T/leaf.key"
}

# hosts_entry ADDR NAME...: a line of $T/hosts (for `hosts-file $T/hosts`).
hosts_entry() {
	echo "$*" >>"$T/hosts"
}

# ---------------------------------------------------------------- clients

# pcurl ARGS...: curl through the proxy on $PH_PORT (silent, at most 15 s).
pcurl() {
	curl -q -sS --max-time 15 -x "$PROXY" "$@"
}

# expect_status CODE ARGS...: pcurl ARGS through the proxy and check the
# HTTP status (for CONNECT through -p or https, the CONNECT status when it
# failed).  Sets $BODY, $HEADERS and $CURL_RC.
expect_status() {
	local want=$1 got codes
	shift
	codes=$(pcurl -o "$T/last.body" -D "$T/last.headers" \
		-w '%{http_code} %{http_connect}' "$@" 2>"$T/last.curlerr")
	CURL_RC=$?
	local tries=1
	while [ "$CURL_RC" -ge 128 ] && [ "$tries" -lt 6 ]; do
		# curl itself died of a signal: Debian 12's curl crashes in its
		# GSS-API code about every other time with an empty credential
		# cache, whatever the proxy says.  Ask again.
		note "curl died of signal $((CURL_RC - 128)); asking again"
		codes=$(pcurl -o "$T/last.body" -D "$T/last.headers" \
			-w '%{http_code} %{http_connect}' "$@" 2>"$T/last.curlerr")
		CURL_RC=$?
		tries=$((tries + 1))
	done
	BODY=$(cat "$T/last.body" 2>/dev/null)
	HEADERS=$(tr -d '\r' <"$T/last.headers" 2>/dev/null)
	got=${codes%% *}
	if [ "$got" = 000 ]; then
		got=${codes##* }
	fi
	if [ "$got" != "$want" ]; then
		local args="$*"
		[ "${#args}" -le 300 ] || args="${args:0:300}..."
		fail "expected HTTP $want from curl $args; got ${got:-nothing} (curl exit $CURL_RC: $(cat "$T/last.curlerr"))
headers:
$HEADERS
body:
$BODY"
	fi
}

# raw STEP...: tests/lib/rawclient.py to the proxy; fails the scenario if a
# step fails.  raw_to HOST PORT STEP... does the same to any server.
raw() {
	raw_to 127.0.0.1 "$PH_PORT" "$@"
}

raw_to() {
	"$PY" "$PH_LIB/rawclient.py" "$@" >"$T/raw.out" 2>"$T/raw.err"
	RAW_RC=$?
	RAW_OUT=$(cat "$T/raw.out")
	if [ "$RAW_RC" != 0 ]; then
		cat "$T/raw.err" >&2
		fail "raw client exchange with $1:$2 failed (see above)"
	fi
}

# raw_bg NAME STEP...: the same in the background (PID in $SPAWNED_PID);
# use a `touch FILE` step and wait_file to know when it got somewhere.
raw_bg() {
	local name=$1
	shift
	spawn "$name" "$PY" "$PH_LIB/rawclient.py" 127.0.0.1 "$PH_PORT" "$@"
}

# wait_pid PID [SECONDS]: waits (default 15 s) for a spawned process to
# exit; its status is in $WAIT_RC.
wait_pid() {
	wait_gone "$1" "${2:-15}" || fail "process $1 still runs after ${2:-15} s"
	reap "$1"
}

# wait_file PATH [SECONDS]
wait_file() {
	local i n=$((${2:-10} * 10))
	for ((i = 0; i < n; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	fail "$1 did not appear within ${2:-10} s"
}

# ---------------------------------------------------------------- checks

# expect_eq EXPECTED ACTUAL [WHAT]
expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

# expect_match REGEX TEXT [WHAT]: TEXT (some line of it) matches the ERE.
expect_match() {
	grep -Eq -- "$1" <<<"$2" ||
		fail "${3:-text}: expected a match for /$1/ in:
$2"
}

# expect_match_i REGEX TEXT [WHAT]: the same, ignoring case.
expect_match_i() {
	grep -Eiq -- "$1" <<<"$2" ||
		fail "${3:-text}: expected a match for /$1/ (any case) in:
$2"
}

# expect_no_match REGEX TEXT [WHAT]
expect_no_match() {
	! grep -Eq -- "$1" <<<"$2" ||
		fail "${3:-text}: expected no match for /$1/, but found:
$(grep -E -- "$1" <<<"$2")"
}

# eventually SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
eventually() {
	local i n=$(($1 * 5))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

ACCESS_LOG=$T/access.log

# log_line_matching REGEX [FILE]: waits (up to 5 s: lines are written when a
# transaction ends) for a line of the access log matching the ERE; the last
# such line is in $LINE.
log_line_matching() {
	local f=${2:-$ACCESS_LOG} i
	for ((i = 0; i < 50; i++)); do
		LINE=$(grep -E -- "$1" "$f" 2>/dev/null | tail -n 1)
		[ -n "$LINE" ] && return 0
		sleep 0.1
	done
	fail "no line matching /$1/ in ${f##*/}:
$(cat "$f" 2>/dev/null)"
}

# no_log_line_matching REGEX [FILE]
no_log_line_matching() {
	local f=${2:-$ACCESS_LOG}
	! grep -Eq -- "$1" "$f" 2>/dev/null ||
		fail "unexpected line matching /$1/ in ${f##*/}:
$(grep -E -- "$1" "$f")"
}

# origin_saw VAR REGEX: the origin VAR logged a request matching REGEX.
origin_saw() {
	grep -Eq -- "$2" "$T/$1.requests" ||
		fail "origin $1 saw no request matching /$2/; it saw:
$(cat "$T/$1.requests")"
}

# origin_count VAR: how many requests/connections origin VAR logged.
origin_count() {
	wc -l <"$T/$1.requests" | tr -d ' '
}

# echo_headers: the request headers /echo reported in $BODY, one
# "name: value" line each, names in lower case.
echo_headers() {
	"$PY" -c 'import json, sys
for k, v in json.loads(sys.stdin.read())["headers"]:
    print("%s: %s" % (k.lower(), v))' <<<"$BODY"
}

# json_field JSON KEY: a top-level value of a JSON document, as JSON.
json_field() {
	"$PY" -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])[sys.argv[2]]))' "$1" "$2"
}

# ---------------------------------------------------------------- TURN

# True when some TCP or UDP socket (IPv4 or IPv6) uses local port $1.
port_in_use_any() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}

# start_coturn VAR USER PASSWORD [REALM]: coturn (turnserver) on
# 127.0.0.1:$VAR (TCP and UDP), long-term credentials USER:PASSWORD in REALM
# (default pinhole.test), relays on 127.0.0.1 in a small free UDP port range
# of 20000-32000 (in $VAR_RELAY as LO-HI), loopback peers allowed, no TLS,
# no CLI; its log is $T/VAR.out.  Stopped on exit like every spawned process.
start_coturn() {
	local var=$1 user=$2 pass=$3 realm=${4:-pinhole.test} port lo p i try ok
	command -v turnserver >/dev/null || skip "needs coturn (apt-get install coturn)"
	for ((try = 0; try < 20; try++)); do
		port=$(free_port)
		port_in_use_any "$port" && continue
		lo=$((20000 + (RANDOM * 32768 + RANDOM) % 11900))
		ok=1
		for ((p = lo; p < lo + 20; p++)); do
			if port_in_use_any "$p" || port_reserved "$p" || grep -qs -x "$p" "$T/.ports"; then
				ok=
				break
			fi
		done
		[ -n "$ok" ] || continue
		for ((p = lo; p < lo + 20; p++)); do
			echo "$p" >>"$T/.ports"
			echo "$p $$" >>"$PH_RESERVED_PORTS"
		done
		spawn "$var" turnserver -n --no-cli --no-tls --no-dtls --listening-ip 127.0.0.1 \
			--relay-ip 127.0.0.1 --allow-loopback-peers --lt-cred-mech --user "$user:$pass" \
			--realm "$realm" --listening-port "$port" --min-port "$lo" --max-port $((lo + 19)) \
			--userdb "$T/$var.db" --pidfile "$T/$var.pid" --log-file stdout --simple-log \
			--no-software-attribute
		for ((i = 0; i < 100; i++)); do
			port_listening "$port" && break
			alive "$SPAWNED_PID" || break
			sleep 0.1
		done
		if port_listening "$port"; then
			printf -v "$var" '%s' "$port"
			printf -v "${var}_RELAY" '%s' "$lo-$((lo + 19))"
			return 0
		fi
		if alive "$SPAWNED_PID"; then
			stop "$SPAWNED_PID"
		else
			reap "$SPAWNED_PID"
		fi
	done
	fail "coturn did not start: $(tail -n 20 "$T/$var.out" "$T/$var.err" 2>/dev/null)"
}
