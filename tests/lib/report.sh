# tests/lib/report.sh - helpers for the WebRTC report scenarios
# (tests/scenarios/report-*.sh), sourced after harness.sh and admin.sh:
#
#     . "$PH_LIB/admin.sh"
#     . "$PH_LIB/report.sh"
#
# gives real browsers' User-Agent strings ($UA_CHROME_WIN, ...), a TCP STUN
# responder (start_stun, tests/lib/stun.py), a STUN client that goes through
# a CONNECT tunnel as a browser's TURN/TCP does (stun_client), and checks on
# /report.json (tests/lib/report.py): report_finding, report_no_finding,
# report_client.

# The User-Agents the browsers send today.
UA_CHROME_WIN='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
UA_CHROME79_WIN='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.130 Safari/537.36'
UA_FIREFOX_LINUX='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
UA_SAFARI_IPHONE='Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1'
UA_EDGE18_WIN='Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.17763'
UA_IE11_WIN='Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko'
UA_WEBEX_IOS='Webex/44.10.0.30906 (iPhone; iOS 17.6.1; Scale/3.00)'
UA_WEBEX_WIN='Webex/44.10.0.30906 (Windows NT 10.0; Win64; x64)'

# report_finding ADDR RULE [USER]: within 5 s the report lists client ADDR
# (with user USER when given) with a finding of RULE.  Sets F_SEVERITY,
# F_COUNT, F_VENDORS (comma-separated), F_SOURCE, F_EVIDENCE, F_ADVICE and
# F_VERDICT (the client's verdict).
report_finding() {
	local out k v line
	local args=("$ADMIN_URL" --client "$1" --rule "$2" --wait "${REPORT_WAIT:-5}")
	[ $# -ge 3 ] && args+=(--user "$3")
	out=$("$PY" "$PH_LIB/report.py" "${args[@]}" 2>&1) ||
		fail "the report has no finding $2 for client $1${3+ (user '$3')}: $out
report.json: $(curl -sS --max-time 5 "$ADMIN_URL/report.json")"
	F_SEVERITY='' F_COUNT='' F_VENDORS='' F_SOURCE='' F_EVIDENCE='' F_ADVICE='' F_VERDICT=''
	while IFS= read -r line; do
		k=${line%%: *}
		v=${line#*: }
		case $k in
		severity) F_SEVERITY=$v ;;
		count) F_COUNT=$v ;;
		vendors) F_VENDORS=$v ;;
		source) F_SOURCE=$v ;;
		evidence) F_EVIDENCE=$v ;;
		advice) F_ADVICE=$v ;;
		verdict) F_VERDICT=$v ;;
		esac
	done <<<"$out"
}

# report_no_finding ADDR RULE [USER]: the report lists client ADDR (within
# 5 s) and it has no finding of RULE.  Call it after the access log shows
# the client's last transaction: events are published when it is logged.
report_no_finding() {
	local out
	local args=("$ADMIN_URL" --client "$1" --rule "$2" --absent)
	[ $# -ge 3 ] && args+=(--user "$3")
	sleep 0.3
	"$PY" "$PH_LIB/report.py" "$ADMIN_URL" --client "$1" ${3+--user "$3"} --wait 5 >/dev/null 2>"$T/report.err" ||
		fail "client $1 is not in the report: $(cat "$T/report.err")"
	out=$("$PY" "$PH_LIB/report.py" "${args[@]}" 2>&1) ||
		fail "unexpected finding $2 for client $1${3+ (user '$3')}: $out"
}

# report_client ADDR [USER]: within 5 s the report lists client ADDR; sets
# C_USER, C_UA, C_BROWSER, C_OS, C_REQUESTS, C_VERDICT and C_RULES (the
# rule ids of its findings, space-separated).
report_client() {
	local out k v line
	local args=("$ADMIN_URL" --client "$1" --wait "${REPORT_WAIT:-5}")
	[ $# -ge 2 ] && args+=(--user "$2")
	out=$("$PY" "$PH_LIB/report.py" "${args[@]}" 2>&1) ||
		fail "the report does not list client $1${2+ (user '$2')}: $out"
	C_USER='' C_UA='' C_BROWSER='' C_OS='' C_REQUESTS='' C_VERDICT='' C_RULES=''
	while IFS= read -r line; do
		k=${line%%: *}
		v=${line#*: }
		[ "$k" = "$line" ] && v=
		case $k in
		user) C_USER=$v ;;
		user_agent) C_UA=$v ;;
		browser) C_BROWSER=$v ;;
		os) C_OS=$v ;;
		requests) C_REQUESTS=$v ;;
		verdict) C_VERDICT=$v ;;
		rules) C_RULES=$v ;;
		esac
	done <<<"$out"
}

# report_wait_requests ADDR N [USER]: within 5 s client ADDR has N requests
# counted (every transaction logged is one); sets what report_client does.
report_wait_requests() {
	local i
	for ((i = 0; i < 25; i++)); do
		report_client_quiet "$@" && [ "$C_REQUESTS" = "$2" ] && break
		sleep 0.2
	done
	report_client "$1" ${3+"$3"}
	[ "$C_REQUESTS" = "$2" ] || fail "client $1${3+ (user '$3')} has $C_REQUESTS requests in the report, expected $2"
}

# report_client_quiet ADDR N [USER]: sets C_REQUESTS; false when ADDR is not listed.
report_client_quiet() {
	local out
	local args=("$ADMIN_URL" --client "$1")
	[ $# -ge 3 ] && args+=(--user "$3")
	out=$("$PY" "$PH_LIB/report.py" "${args[@]}" 2>/dev/null) || return 1
	C_REQUESTS=$(sed -n 's/^requests: //p' <<<"$out")
}

# expect_config_line ADVICE: `pinhole validate` accepts ADVICE's lines in a
# config (the report's advice is meant to be pasted as it is; lines are
# separated by \x0a as report.py prints them).
expect_config_line() {
	local lines
	lines=$(printf '%b' "$1" | grep -v '^remove ')
	printf 'listen 127.0.0.1:%s\n%s\nallow all\n' "$PH_PORT" "$lines" >"$T/advice.conf"
	run_pinhole validate -c "$T/advice.conf"
	[ "$RC" = 0 ] || fail "the advice '$1' is not a valid config line: $ERR"
}

# apply_advice ADVICE [FILE]: applies a finding's advice to $T/pinhole.conf
# as an admin would: allow and noauth lines go before the first allow,
# deny or preset line, "remove LINE" takes LINE out, other lines go at the
# end (FILE, when given, replaces the placeholder FILE).  Reload with
# pinhole_reload.
apply_advice() {
	"$PY" - "$T/pinhole.conf" "$(printf '%b' "$1")" "${2:-FILE}" <<'PYEOF' || fail "cannot apply the advice '$1'"
import sys
path, advice, file = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(path).read().splitlines()
first, last, remove = [], [], []
for a in advice.splitlines():
    if a.startswith("remove "):
        remove.append(a[len("remove "):])
    elif a.startswith(("allow ", "noauth ")):
        first.append(a)
    else:
        last.append(" ".join(file if w == "FILE" else w for w in a.split()))
out, placed = [], False
for l in lines:
    if not placed and l.split()[:1] and l.split()[0] in ("allow", "deny", "preset"):
        out += first
        placed = True
    if l.strip() not in remove:
        out.append(l)
if not placed:
    out += first
open(path, "w").write("\n".join(out + last) + "\n")
PYEOF
}

# start_stun VAR [--bind ADDR] [--port N]: a TCP STUN responder
# (stun.py serve); VAR gets its port, $T/VAR.requests one line per
# connection.
start_stun() {
	local var=$1 i
	shift
	rm -f "$T/$var.port"
	spawn "$var" "$PY" "$PH_LIB/stun.py" serve --port-file "$T/$var.port" --log "$T/$var.requests" "$@"
	for ((i = 0; i < 100; i++)); do
		[ -s "$T/$var.port" ] && break
		alive "$SPAWNED_PID" || break
		sleep 0.1
	done
	[ -s "$T/$var.port" ] || fail "the STUN responder $var did not start: $(cat "$T/$var.err")"
	printf -v "$var" '%s' "$(cat "$T/$var.port")"
	touch "$T/$var.requests"
}

# stun_client TARGET [OPTION...]: stun.py client through the proxy (CONNECT
# TARGET, then a STUN Binding request); its output is in $STUN_OUT; fails the
# scenario when the exchange is not the one the options describe.
stun_client() {
	local target=$1
	shift
	STUN_OUT=$("$PY" "$PH_LIB/stun.py" client 127.0.0.1 "$PH_PORT" "$target" "$@" 2>"$T/stun-client.err")
	STUN_RC=$?
	[ "$STUN_RC" = 0 ] || fail "STUN through CONNECT $target ($*) failed: $(cat "$T/stun-client.err")
$STUN_OUT"
}

# A time as the report's evidence says it (UTC, HH:MM:SS), as an ERE.
HMS='[0-2][0-9]:[0-5][0-9]:[0-6][0-9]'
