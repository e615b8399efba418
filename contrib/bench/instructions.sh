#!/bin/bash
# contrib/bench/instructions.sh - instructions pinhole executes per tunnel and
# per keep-alive request, counted by valgrind's callgrind: the same figure
# whatever else the machine is doing, so two builds can be compared on a
# busy machine where rates cannot.  Each figure is the difference of two
# runs (N1 and N2 operations) divided by N2 - N1, so start-up and the
# configuration load cancel out.  Kernel time is not counted: this measures
# pinhole's own code and the C library it calls, not system calls (count
# those with strace -c).
#
#   sh contrib/bench/instructions.sh PINHOLE [PINHOLE...]
#   sh contrib/bench/instructions.sh build/src/pinhole /tmp/old/src/pinhole
#
# Needs valgrind and a C compiler; about a minute per binary.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 PINHOLE [PINHOLE...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed" >&2; exit 2; }
TMP=$(mktemp -d)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
CC=${CC:-cc}
for t in loadgen echod; do
	$CC -std=c11 -D_GNU_SOURCE -O2 -o "$TMP/$t" "$HERE/$t.c" -lm 2>"$TMP/build-$t.log" ||
		{ echo "instructions: cannot build $t (see $TMP/build-$t.log)" >&2; exit 2; }
done
LG=$TMP/loadgen
ports=($("$LG" freeport 5))
ECHO=${ports[0]} SRC=${ports[1]} HTTP=${ports[2]} SINK=${ports[3]} PX=${ports[4]}
"$TMP/echod" -e "$ECHO" -s "$SRC" -H "$HTTP" -k "$SINK" -t 3600 >"$TMP/echod.log" 2>&1 &
PIDS="$PIDS $!"
for p in "$ECHO" "$HTTP"; do "$LG" waitport "$p" 5000 >/dev/null || { echo "instructions: echod did not start" >&2; exit 2; }; done
cat >"$TMP/pinhole.conf" <<EOF
listen 127.0.0.1:$PX
workers 1
access-log off
allow dst-local
allow all
EOF

# Instructions of one run of pinhole serving n operations of a mode.
run() {
	local bin=$1 mode=$2 n=$3 pid out
	rm -f "$TMP"/cg.out.*
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out.%p" "$bin" run -c "$TMP/pinhole.conf" \
		>"$TMP/pinhole.log" 2>&1 &
	pid=$!
	"$LG" waitport "$PX" 30000 >/dev/null || { echo "instructions: $bin did not start" >&2; exit 2; }
	if [ "$mode" = tunnel ]; then
		out=$("$LG" tunnel -p "$PX" -t "$ECHO" -c 10 -d 120 -n "$n" 2>&1 | tail -1)
	else
		out=$("$LG" http -p "$PX" -t "$HTTP" -c 10 -d 120 -n "$n" 2>&1 | tail -1)
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null
	case $out in
	*" err=0"*) ;;
	*) echo "instructions: errors through $bin ($mode): $out" >&2; exit 1 ;;
	esac
	callgrind_annotate "$TMP"/cg.out.* 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}

printf '%-50s %14s %14s\n' "pinhole" "Ir/tunnel" "Ir/request"
for bin in "$@"; do
	t1=$(run "$bin" tunnel 1000) && t2=$(run "$bin" tunnel 3000) || exit 1
	h1=$(run "$bin" http 2000) && h2=$(run "$bin" http 6000) || exit 1
	printf '%-50s %14d %14d\n' "$bin" $(((t2 - t1) / 2000)) $(((h2 - h1) / 4000))
done
