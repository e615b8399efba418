# tests/browser/lib.sh - real browsers for pinhole's browser scenarios
# (tests/browser/scenarios/*.sh, `make check-browser`).  Sourced after the
# shared harness (and admin.sh/report.sh when the report is read):
#
#     . "${PH_SRCDIR:-$(dirname "$0")/../../..}/tests/lib/harness.sh"
#     . "$PH_SRCDIR/tests/browser/lib.sh"
#
#     for B in $(browsers); do
#         browser_run                       # a fresh log and admin port
#         pinhole_start <<EOF
#         listen 127.0.0.1:$PH_PORT
#         access-log $ACCESS_LOG squid
#         allow all
#         EOF
#         drive "$B" --proxy 127.0.0.1:$PH_PORT page=http://www.origin.test:$WEB/hello
#         record page scheme=none inspection=off url=http
#         expect_eq 200 "$(dv steps.0.status)" "the page's status in $B"
#         pinhole_stop
#     done
#
# drive runs tests/browser/drive.mjs (Chromium through playwright-core,
# Firefox ESR through puppeteer-core; see its header for the steps) and keeps
# its JSON answer in $DRIVE; dv PATH reads one value of it ("steps.1.ok").
# record writes what the browser showed to the results the compatibility
# matrix (doc/browser-matrix.md, `make browser-matrix`) is made from, before
# the scenario asserts anything, so a failure is in the matrix too.
#
# A new scenario is a file in tests/browser/scenarios/ listed in
# BROWSER_SCENARIOS (Makefile.am); run one by hand from the source tree:
#     PINHOLE=build/src/pinhole PH_BUILDDIR=build sh tests/browser/scenarios/NAME.sh
# (PH_BROWSERS=firefox for one browser, PH_KEEP=1 to keep $T with each
# browser's drive-N.json and drive-N.err).
#
# Environment: PH_BROWSERS (default "chromium firefox": the browsers to run),
# PH_BROWSER_RESULTS (default $PH_BUILDDIR/browser-results: one NAME.jsonl
# per scenario, and its screenshots).  A scenario is skipped (77) when node,
# the npm packages (`npm ci` in tests/browser) or every browser is missing.

PH_BROWSER_DIR=$PH_SRCDIR/tests/browser
PH_BROWSER_RESULTS=${PH_BROWSER_RESULTS:-$PH_BUILDDIR/browser-results}
NODE=${NODE:-$(command -v node || true)}

[ -n "$NODE" ] || skip "needs node (apt-get install nodejs npm)"
[ -d "$PH_BROWSER_DIR/node_modules/playwright-core" ] && [ -d "$PH_BROWSER_DIR/node_modules/puppeteer-core" ] ||
	skip "needs the npm packages: (cd tests/browser && npm ci)"
mkdir -p "$PH_BROWSER_RESULTS" || fail "cannot make $PH_BROWSER_RESULTS"
# Each run of a scenario replaces its results.
: >"$PH_BROWSER_RESULTS/$SCENARIO.jsonl"

# browsers: the browsers to run, of PH_BROWSERS, that are installed.
browsers() {
	local b out=
	for b in ${PH_BROWSERS:-chromium firefox}; do
		case $b in
		chromium) [ -x "${PH_CHROMIUM:-/usr/bin/chromium}" ] && out="$out $b" ;;
		firefox) [ -x "${PH_FIREFOX:-/usr/bin/firefox-esr}" ] && out="$out $b" ;;
		esac
	done
	[ -n "$out" ] || skip "no browser to run (apt-get install chromium firefox-esr)"
	echo $out
}

# browser_run: a fresh access log ($ACCESS_LOG, $T/access-N.log) and admin
# port ($ADMIN, $ADMIN_URL) for the next pinhole_start.  The report
# identifies clients by address and every browser comes from 127.0.0.1, so
# a scenario that reads the report gives each browser a pinhole of its own.
PH_BROWSER_RUN=0
browser_run() {
	PH_BROWSER_RUN=$((PH_BROWSER_RUN + 1))
	ADMIN=$(free_port)
	ADMIN_URL=http://127.0.0.1:$ADMIN
	ACCESS_LOG=$T/access-$PH_BROWSER_RUN.log
}

# browser_profile BROWSER [CA_FILE...]: a fresh profile directory (its path
# in $PROFILE) that trusts the CAs given: an NSS database made with certutil,
# $PROFILE/.pki/nssdb for Chromium (HOME is $PROFILE), $PROFILE/firefox for
# Firefox (its profile, cert9.db).
PH_PROFILES=0
browser_profile() {
	local b=$1 db ca n=0
	shift
	PH_PROFILES=$((PH_PROFILES + 1))
	PROFILE=$T/profile-$b-$PH_PROFILES
	mkdir -p "$PROFILE"
	[ $# -gt 0 ] || return 0
	command -v certutil >/dev/null || skip "needs certutil (apt-get install libnss3-tools)"
	case $b in
	chromium) db=$PROFILE/.pki/nssdb ;;
	firefox) db=$PROFILE/firefox ;;
	esac
	mkdir -p "$db"
	certutil -N -d "sql:$db" --empty-password >>"$T/certutil.out" 2>&1 ||
		fail "certutil -N failed: $(tail -n 5 "$T/certutil.out")"
	for ca in "$@"; do
		n=$((n + 1))
		certutil -A -d "sql:$db" -n "test CA $n" -t C,, -i "$ca" >>"$T/certutil.out" 2>&1 ||
			fail "certutil -A $ca failed: $(tail -n 5 "$T/certutil.out")"
	done
}

# drive BROWSER [drive.mjs OPTIONS] STEP...: runs the browser (at most
# PH_DRIVE_TIMEOUT seconds, default 150) and keeps its answer in $DRIVE
# (and $T/drive-N.json).  Without --profile it gets a fresh one.  Under
# `unshare -m` with PH_DRIVE_HOSTS=FILE, FILE is bind-mounted over
# /etc/hosts for the browser alone (see drive_with_hosts).
PH_DRIVES=0
drive() {
	local b=$1 rc out
	shift
	PH_DRIVES=$((PH_DRIVES + 1))
	out=$T/drive-$PH_DRIVES
	case " $* " in
	*" --profile "*) ;;
	*)
		browser_profile "$b"
		set -- --profile "$PROFILE" "$@"
		;;
	esac
	if [ -n "${PH_DRIVE_HOSTS:-}" ]; then
		timeout "${PH_DRIVE_TIMEOUT:-150}" unshare -m sh -c \
			'mount --bind "$0" /etc/hosts && exec "$@"' "$PH_DRIVE_HOSTS" \
			"$NODE" "$PH_BROWSER_DIR/drive.mjs" --browser "$b" "$@" >"$out.json" 2>"$out.err"
	else
		timeout "${PH_DRIVE_TIMEOUT:-150}" "$NODE" "$PH_BROWSER_DIR/drive.mjs" --browser "$b" "$@" \
			>"$out.json" 2>"$out.err"
	fi
	rc=$?
	DRIVE=$(tail -n 1 "$out.json")
	DRIVE_BROWSER=$b
	DRIVE_VERSION=$(dv version 2>/dev/null)
	note "$b: $(head -c 1500 <<<"$DRIVE")"
	[ "$rc" = 0 ] || fail "drive.mjs for $b exited with status $rc:
$(tail -n 20 "$out.err")
$DRIVE"
}

# dv PATH: one value of $DRIVE, by a dotted path ("steps.0.status",
# "steps.1.errors.0.code"); strings bare, other values as JSON, "" when
# absent.
dv() {
	"$PY" -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    if isinstance(v, list):
        try:
            v = v[int(k)]
        except (ValueError, IndexError):
            v = None
    elif isinstance(v, dict):
        v = v.get(k)
    else:
        v = None
    if v is None:
        break
print("" if v is None else v if isinstance(v, str) else json.dumps(v))
' "$DRIVE" "$1"
}

# record STEP_INDEX KEY=VALUE...: one line of the compatibility matrix
# from step STEP_INDEX of the last drive: what was tried (the KEY=VALUEs:
# scheme, inspection, quirk, what, credentials...) and what the browser
# showed (works, or fails with the error the page saw; for the self-check
# page, each of its checks).
record() {
	local i=$1
	shift
	"$PY" - "$DRIVE" "$SCENARIO" "$i" "$PH_BROWSER_RESULTS/$SCENARIO.jsonl" "$@" <<'PYEOF' ||
import json, sys
d = json.loads(sys.argv[1] or "{}")
scenario, i, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
steps = d.get("steps") or []
step = steps[i] if i < len(steps) else {}
row = {"scenario": scenario, "browser": d.get("browser"), "version": d.get("version")}
for kv in sys.argv[5:]:
    k, _, v = kv.partition("=")
    row[k] = v
row["step"] = step.get("step")
row["works"] = bool(step.get("ok"))
row["error"] = None if step.get("ok") else (step.get("error") or d.get("error") or "no answer")
if step.get("step") == "webrtc":
    sel = step.get("selected") or {}
    loc = sel.get("local") or {}
    st = step.get("state") or {}
    row["ice"] = "%s/%s" % (st.get("a"), st.get("b"))
    if loc:
        row["pair"] = "%s %s/%s" % (loc.get("type"), loc.get("relayProtocol") or "-", loc.get("protocol"))
    codes = sorted({e.get("code") for e in step.get("errors") or [] if e.get("code") is not None})
    if codes:
        row["ice_errors"] = codes
if step.get("step") == "page":
    row["status"] = step.get("status")
if step.get("step") == "selfcheck":
    row["status"] = step.get("status")
    row["checks"] = [{"id": c.get("id"), "ok": c.get("class") == "ok", "text": c.get("text")}
                     for c in step.get("checks") or []]
with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")
PYEOF
		fail "cannot record the result of step $i"
}

# expect_step_ok I WHAT: step I of the last drive worked.
expect_step_ok() {
	[ "$(dv "steps.$1.ok")" = true ] ||
		fail "$2 in $DRIVE_BROWSER $DRIVE_VERSION: expected it to work; the browser saw: $(dv "steps.$1.error")
$(dv "steps.$1")"
}

# expect_step_fails I WHAT: step I of the last drive did not work.
expect_step_fails() {
	[ "$(dv "steps.$1.ok")" = false ] ||
		fail "$2 in $DRIVE_BROWSER $DRIVE_VERSION: expected it to fail, but it worked:
$(dv "steps.$1")"
}

# webrtc_step TURN_HOST TURN_PORT USER PASSWORD: the webrtc= step argument.
webrtc_step() {
	printf 'webrtc={"turn":"turn:%s:%s?transport=tcp","username":"%s","credential":"%s","seconds":%s}' \
		"$1" "$2" "$3" "$4" "${PH_WEBRTC_SECONDS:-20}"
}

# expect_relay_tcp I: step I (webrtc) connected over a relay candidate that
# reaches the TURN server over TCP (through the proxy), and a data channel
# message went through.
expect_relay_tcp() {
	expect_step_ok "$1" "the WebRTC call"
	expect_eq "media through pinhole" "$(dv "steps.$1.message")" "the data channel message in $DRIVE_BROWSER"
	expect_eq relay "$(dv "steps.$1.selected.local.type")" "the selected local candidate's type in $DRIVE_BROWSER"
	expect_eq tcp "$(dv "steps.$1.selected.local.relayProtocol")" \
		"the selected relay's protocol to the TURN server in $DRIVE_BROWSER"
}

# auth_pages BROWSER SCHEME USER PASSWORD LOGGED_AS: the browser, given USER
# and PASSWORD for the proxy's prompt, loads the http:// page of $WEB and the
# https:// page of $TLS (www.origin.test, www.secure.test); the access log
# names LOGGED_AS for both.  Recorded as scheme=SCHEME.
auth_pages() {
	local b=$1 scheme=$2 user=$3 pass=$4 as=$5 n0 n1
	n0=$(origin_count WEB)
	n1=$(origin_count TLS)
	browser_profile "$b" "$T/ca.pem"
	drive "$b" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" --proxy-user "$user" --proxy-password "$pass" \
		"page=http://www.origin.test:$WEB/hello?$scheme" "page=https://www.secure.test:$TLS/hello?$scheme"
	record 0 what=page scheme="$scheme" inspection=off url=http credentials="${AUTH_CREDENTIALS_LABEL:-right}"
	record 1 what=page scheme="$scheme" inspection=off url=https credentials="${AUTH_CREDENTIALS_LABEL:-right}"
	expect_step_ok 0 "the http:// page with $scheme as $user"
	expect_eq "hello from the origin" "$(dv steps.0.text | tr -d '\n')" "the http:// page's text in $b"
	expect_step_ok 1 "the https:// page with $scheme as $user"
	expect_eq "hello from the origin" "$(dv steps.1.text | tr -d '\n')" "the https:// page's text in $b"
	local re_as=${as//\\/\\\\}
	re_as=${re_as//./\\.}
	log_line_matching " TCP_MISS/200 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?$scheme $re_as "
	log_line_matching " TCP_TUNNEL/200 [0-9]+ CONNECT www\.secure\.test:$TLS $re_as "
	[ "$(origin_count WEB)" -gt "$n0" ] || fail "the http:// origin saw no request from $b"
	[ "$(origin_count TLS)" -gt "$n1" ] || fail "the https:// origin saw no request from $b"
}

# auth_pages_wrong BROWSER SCHEME USER PASSWORD: with a wrong password
# neither page loads, and neither origin sees a request.
auth_pages_wrong() {
	local b=$1 scheme=$2 user=$3 pass=$4 n0 n1
	n0=$(origin_count WEB)
	n1=$(origin_count TLS)
	browser_profile "$b" "$T/ca.pem"
	# A browser that keeps answering with the same wrong password may
	# never end the navigation: 6 s is plenty on loopback.
	drive "$b" --proxy "127.0.0.1:$PH_PORT" --profile "$PROFILE" --proxy-user "$user" --proxy-password "$pass" \
		--timeout 6 "page=http://www.origin.test:$WEB/hello?$scheme-wrong" "page=https://www.secure.test:$TLS/hello?$scheme-wrong"
	record 0 what=page scheme="$scheme" inspection=off url=http credentials=wrong
	record 1 what=page scheme="$scheme" inspection=off url=https credentials=wrong
	expect_step_fails 0 "the http:// page with a wrong $scheme password"
	expect_step_fails 1 "the https:// page with a wrong $scheme password"
	expect_no_match 'hello from the origin' "$(dv steps.0.text)" "the http:// page in $b with a wrong password"
	expect_eq "$n0" "$(origin_count WEB)" "requests the http:// origin saw with a wrong password"
	expect_eq "$n1" "$(origin_count TLS)" "requests the https:// origin saw with a wrong password"
	log_line_matching " TCP_DENIED/407 [0-9]+ GET http://www\.origin\.test:$WEB/hello\?$scheme-wrong "
}

# record_report KEY=VALUE...: what the report (/report.json at $ADMIN_URL)
# says of this machine's browser (every entry of 127.0.0.1, whatever the
# user): the worst verdict and the rules, as a matrix row next to the
# WebRTC row recorded with the same KEY=VALUEs.  Call it once the
# scenario's own report checks have waited for the events.
record_report() {
	"$PY" - "$ADMIN_URL" "$DRIVE" "$SCENARIO" "$PH_BROWSER_RESULTS/$SCENARIO.jsonl" "$@" <<'PYEOF' ||
import json, sys, urllib.request
url, d, scenario, out = sys.argv[1], json.loads(sys.argv[2] or "{}"), sys.argv[3], sys.argv[4]
with urllib.request.urlopen(url.rstrip("/") + "/report.json", timeout=10) as r:
    rep = json.loads(r.read().decode("utf-8"))
order = {"ok": 0, "degraded": 1, "breaks": 2}
verdict, rules = "ok", []
for c in rep.get("clients", []):
    if c.get("client") != "127.0.0.1":
        continue
    if order.get(c.get("verdict"), 0) > order[verdict]:
        verdict = c.get("verdict")
    for f in c.get("findings", []):
        if f.get("rule") not in rules:
            rules.append(f.get("rule"))
row = {"scenario": scenario, "browser": d.get("browser"), "version": d.get("version")}
for kv in sys.argv[5:]:
    k, _, v = kv.partition("=")
    row[k] = v
row["what"] = "report"
row["verdict"] = verdict
row["rules"] = sorted(rules)
with open(out, "a") as f:
    f.write(json.dumps(row) + "\n")
PYEOF
		fail "cannot record what the report says"
}
