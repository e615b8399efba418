# auth.sh - the proxy-authentication suite of the pinhole benchmark
# (`run.sh --suite auth`): Basic, NTLM and Negotiate on pinhole and on Squid
# with its helpers, a throwaway Kerberos realm on loopback, and the table in
# results/latest-auth.txt.  Sourced by run.sh, whose helpers it uses (process
# bookkeeping, start_proxy, run_lg, record, median...); not run on its own.

AUTH_USER=alice
AUTH_PASS=bench-secret
AUTH_DOMAIN=BENCH
AUTH_REALM=BENCH.TEST
# The proxy's name for Kerberos only: clients connect to 127.0.0.1 and name
# the service explicitly, so nothing has to resolve it.
AUTH_HOST=proxy.bench.test
AUTH_SPN=HTTP/$AUTH_HOST@$AUTH_REALM
SQUID_HELPERS=/usr/lib/squid
# Squid's helpers: enough processes that no request waits for one (none of
# these three speaks the concurrent helper protocol).
SQUID_BASIC_CHILDREN=5
SQUID_NTLM_CHILDREN=20
SQUID_NEG_CHILDREN=20

# schemes measured, each on a freshly started proxy: "none" is the same
# proxy without auth, the baseline of both ratios
AUTH_SCHEMES="none basic ntlm negotiate"

# Why a scheme is skipped for everyone (missing tool), empty if it runs.
AUTH_SKIP_basic=""
AUTH_SKIP_ntlm=""
AUTH_SKIP_negotiate=""

auth_skip() {	# scheme reason
	eval "AUTH_SKIP_$1=\$2"
	say "bench: auth: skipping $1: $2"
}

# Build loadgen with authgen.c: OpenSSL for NTLM, MIT GSSAPI for Negotiate.
auth_build() {
	if ! command -v pkg-config >/dev/null 2>&1 ||
	    ! ab_flags=$(pkg-config --cflags --libs krb5-gssapi krb5 libcrypto \
	    2>"$TMP/build-loadgen-auth.log"); then
		err "the auth suite needs pkg-config, libkrb5-dev and libssl-dev" \
		    "(apt-get install pkg-config libkrb5-dev libssl-dev)"
		return 1
	fi
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS_B -DBENCH_AUTH -o "$TMP/loadgen-auth" \
	    "$HERE/loadgen.c" "$HERE/authgen.c" $ab_flags \
	    2>>"$TMP/build-loadgen-auth.log"; then
		err "building loadgen with authgen.c failed:"
		cat "$TMP/build-loadgen-auth.log" >&2
		return 1
	fi
	return 0
}

# Users for Basic (bcrypt, as `htpasswd -B` makes it) and NTLM (the NT hash,
# from `pinhole passwd --ntlm`, which Squid's fake helper never reads).
auth_users() {
	AD="$TMP/auth"
	mkdir -p "$AD" && chmod 755 "$AD"
	if command -v htpasswd >/dev/null 2>&1 &&
	    htpasswd -B -b -c "$AD/users.htpasswd" "$AUTH_USER" "$AUTH_PASS" \
	    >"$AD/htpasswd.log" 2>&1; then
		chmod 644 "$AD/users.htpasswd"	# Squid's helper runs as proxy
	else
		auth_skip basic "no htpasswd (apt-get install apache2-utils)"
	fi
	if [ "$PINHOLE_OK" = 1 ] && printf '%s\n' "$AUTH_PASS" |
	    "$PINHOLE" passwd --ntlm "$AUTH_USER" --domain "$AUTH_DOMAIN" \
	    >"$AD/users.ntlm" 2>"$AD/passwd.log"; then
		:
	elif [ "$PINHOLE_OK" = 1 ]; then
		say "bench: auth: 'pinhole passwd --ntlm' failed: $(head -n 1 \
		    "$AD/passwd.log"); pinhole's NTLM is skipped"
	fi
	# ntlm_fake_auth reads the UTF-16 names of a Type 3 as ASCII and says
	# so on stderr (Squid's cache.log) for every handshake; it accepts
	# anyway.  Its stderr goes to /dev/null so Squid is not measured
	# writing that log.
	cat >"$AD/ntlm_fake_auth" <<EOF
#!/bin/sh
exec $SQUID_HELPERS/ntlm_fake_auth 2>/dev/null
EOF
	chmod 755 "$AD/ntlm_fake_auth"
}

# A throwaway realm (tests/lib/kdc.sh) with the user, the proxy's service
# key and the user's ticket; exports KRB5_CONFIG and KRB5CCNAME for the
# proxies and loadgen.  The service gets no PAC: MIT's minimal PAC has no
# logon info, and Squid's helper would log an error for each handshake.
auth_kdc() {
	AUTH_KDC_PID=""
	if [ ! -r "$HERE/../../tests/lib/kdc.sh" ]; then
		auth_skip negotiate "tests/lib/kdc.sh not found"
		return
	fi
	. "$HERE/../../tests/lib/kdc.sh"
	if ! kdc_have_binaries || ! command -v kinit >/dev/null 2>&1; then
		auth_skip negotiate "needs the MIT KDC and kinit (apt-get install krb5-kdc krb5-admin-server krb5-user)"
		return
	fi
	if ! kdc_start "$TMP/kdc" "$AUTH_REALM" bench.test 2>"$TMP/kdc.err"; then
		auth_skip negotiate "the test KDC did not start: $(tail -n 1 "$TMP/kdc.err")"
		return
	fi
	AUTH_KDC_PID=$KDC_PID
	pid_add "$KDC_PID"
	chmod 755 "$KDC_DIR"	# krb5.conf, for Squid's helpers
	if ! { kdc_add_user "$AUTH_USER" "$AUTH_PASS" &&
	    kdc_add_service "HTTP/$AUTH_HOST" "$AD/proxy.keytab" &&
	    kdc_kadmin "modprinc +no_auth_data_required HTTP/$AUTH_HOST" &&
	    kdc_kinit "$AUTH_USER" "$AUTH_PASS"; } 2>"$TMP/kdc.err"; then
		auth_skip negotiate "setting up the realm failed: $(head -n 2 "$TMP/kdc.err" | tr '\n' ' ')"
		return
	fi
	chmod 644 "$AD/proxy.keytab"	# a throwaway key; Squid's helper runs as proxy
	# the acceptors' replay cache: off for both, or the default file cache
	if [ "${BENCH_RCACHE:-none}" = file ]; then
		mkdir -p "$TMP/rcache" && chmod 1777 "$TMP/rcache"
		KRB5RCACHEDIR=$TMP/rcache
		export KRB5RCACHEDIR
		unset KRB5RCACHETYPE
		AUTH_RCACHE="file (the default file2 cache in a temporary directory)"
		AUTH_RC_OPT=""
	else
		KRB5RCACHETYPE=none
		export KRB5RCACHETYPE
		AUTH_RCACHE="none (KRB5RCACHETYPE=none; Squid's helper also -t none)"
		AUTH_RC_OPT=" -t none"
	fi
}

# Sets PINHOLE_AUTH / SQUID_ACCESS for scheme $1 (start_proxy writes them).
auth_conf() {
	PINHOLE_AUTH=""
	SQUID_ACCESS="http_access allow all"
	case "$1" in
	none) return ;;
	basic)
		PINHOLE_AUTH="auth basic htpasswd $AD/users.htpasswd"
		ac_prog="basic_ncsa_auth $AD/users.htpasswd"
		ac_extra="auth_param basic children $SQUID_BASIC_CHILDREN startup=$SQUID_BASIC_CHILDREN idle=1
auth_param basic credentialsttl 2 hours
auth_param basic realm pinhole-bench" ;;
	ntlm)
		PINHOLE_AUTH="auth ntlm users $AD/users.ntlm"
		ac_prog=""
		ac_extra="auth_param ntlm program $AD/ntlm_fake_auth
auth_param ntlm children $SQUID_NTLM_CHILDREN startup=$SQUID_NTLM_CHILDREN idle=1
auth_param ntlm keep_alive on" ;;
	negotiate)
		PINHOLE_AUTH="auth negotiate keytab $AD/proxy.keytab principal $AUTH_SPN"
		ac_prog="negotiate_kerberos_auth -k $AD/proxy.keytab -s $AUTH_SPN$AUTH_RC_OPT"
		ac_extra="auth_param negotiate children $SQUID_NEG_CHILDREN startup=$SQUID_NEG_CHILDREN idle=1
auth_param negotiate keep_alive on" ;;
	esac
	[ -n "$ac_prog" ] &&
	    ac_extra="auth_param $1 program $SQUID_HELPERS/$ac_prog
$ac_extra"
	SQUID_ACCESS="$ac_extra
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all"
}

# What loadgen sends for scheme $1.
auth_spec() {
	case "$1" in
	basic) echo "basic:$AUTH_USER:$AUTH_PASS" ;;
	ntlm) printf '%s\n' "ntlm:$AUTH_DOMAIN\\$AUTH_USER:$AUTH_PASS" ;;
	negotiate) echo "negotiate:HTTP@$AUTH_HOST" ;;
	esac
}

# Can pinhole take the config of scheme $1?  Says why not once.
auth_pinhole_ok() {
	eval "apo=\${AUTH_PH_$1:-}"
	[ -n "$apo" ] || {
		auth_conf "$1"
		write_pinhole_conf 3128
		if "$PINHOLE" validate -c "$TMP/pinhole.conf" \
		    >"$TMP/pinhole-validate-$1.log" 2>&1; then
			apo=yes
		else
			apo=no
			say "bench: auth: skipping pinhole $1: 'pinhole validate':" \
			    "$(head -n 2 "$TMP/pinhole-validate-$1.log" | tr '\n' ' ')"
		fi
		eval "AUTH_PH_$1=\$apo"
	}
	[ "$apo" = yes ]
}

# One measurement with loadgen-auth: round target metric mode [spec].
auth_measure() {
	am_r=$1; am_t=$2; am_m=$3; am_mode=$4
	am_a=""
	[ -n "${5:-}" ] && am_a="-A $5"
	LG_SAVE=$LG
	LG=$TMP/loadgen-auth
	# shellcheck disable=SC2086
	run_lg "$am_mode" -p "$PROXY_PORT" $OURS -t "$ECHO_PORT" -c "$CONC" \
		-d "$T_TUN" -w "$WARM" -n 3000000 $am_a
	LG=$LG_SAVE
	if note_errors "$am_r" "$am_t" "$am_m" "$am_m"; then
		record "$am_r" "$am_t" "$am_m" "$(kv rate)"
		record "$am_r" "$am_t" "${am_m}_p50" "$(kv p50_us)"
		record "$am_r" "$am_t" "${am_m}_p99" "$(kv p99_us)"
		record_cpu "$am_r" "$am_t" "$am_m"
		say "  $am_m/s $(kv rate)  p50 $(kv p50_us)us  p99 $(kv p99_us)us " \
		    "err $(kv err)  $(cpu_text)"
		[ "$(kv err)" != 0 ] && [ -s "$TMP/lg.err" ] &&
		    sed -n '1,2s/^/    /p' "$TMP/lg.err"
	fi
}

auth_target() {	# round target
	at_r=$1; at_t=$2
	say "round $at_r: $at_t"
	wait_quiet
	for at_s in $AUTH_SCHEMES; do
		[ "$at_s" = none ] || {
			eval "at_skip=\$AUTH_SKIP_$at_s"
			[ -z "$at_skip" ] || continue
		}
		if [ "$at_t" = pinhole ]; then
			auth_pinhole_ok "$at_s" || continue
			[ "$at_s" = ntlm ] && [ ! -s "$AD/users.ntlm" ] && continue
		fi
		auth_conf "$at_s"
		if ! start_proxy "$at_t"; then
			printf 'round %s %s %s: failed to start (see above)\n' \
			    "$at_r" "$at_t" "$at_s" >>"$NOTES"
			continue
		fi
		OURS="-x $ECHOD_PID${AUTH_KDC_PID:+,$AUTH_KDC_PID} -r $PROXY_PID"
		case "$at_s" in
		none)
			auth_measure "$at_r" "$at_t" tun_none tunnel
			auth_measure "$at_r" "$at_t" hs_none handshake ;;
		basic)
			auth_measure "$at_r" "$at_t" tun_basic tunnel \
			    "$(auth_spec basic)" ;;
		*)
			auth_measure "$at_r" "$at_t" "hs_$at_s" handshake \
			    "$(auth_spec "$at_s")" ;;
		esac
		if ! kill -0 "$PROXY_PID" 2>/dev/null; then
			printf 'round %s %s %s: proxy died during the run\n' \
			    "$at_r" "$at_t" "$at_s" >>"$NOTES"
		fi
		stop_proxy
	done
	auth_conf none
}

auth_report() {
	AR="$TMP/report-auth"
	{
		say "pinhole auth bench $(date '+%Y-%m-%d %H:%M:%S %z'), kernel" \
		    "$(uname -r), $NCPU CPUs, $PIN_NOTE"
		say "rounds $ROUNDS (medians), ${T_TUN}s per number after" \
		    "${WARM}s warm-up, concurrency $CONC, took ${AUTH_ELAPSED}s"
		[ "$SQUID_OK" = 1 ] &&
		    say "squid: $("$SQUID" -v 2>/dev/null | head -n 1)"
		[ "$PINHOLE_OK" = 1 ] &&
		    say "pinhole: $("$PINHOLE" version 2>/dev/null | head -n 1)" \
		    "($PINHOLE_ORIG)"
		say "Basic: bcrypt htpasswd (htpasswd -B), the same" \
		    "Proxy-Authorization on every CONNECT; pinhole caches the check" \
		    "(default 5m), Squid basic_ncsa_auth x$SQUID_BASIC_CHILDREN," \
		    "credentialsttl 2 hours"
		say "NTLM: new connection per handshake, Type 1 -> 407 -> NTLMv2" \
		    "Type 3 -> 200, close; pinhole checks the NTLMv2 response" \
		    "against the NT hash, Squid's ntlm_fake_auth x$SQUID_NTLM_CHILDREN" \
		    "accepts any password (no check)"
		say "Negotiate: new connection per handshake, SPNEGO/Kerberos" \
		    "AP-REQ (mutual auth requested) -> 200, close; Squid" \
		    "negotiate_kerberos_auth x$SQUID_NEG_CHILDREN; replay cache" \
		    "${AUTH_RCACHE:-n/a}; no PAC in the service ticket"
		say "Squid's helpers are pinned with Squid (CPU 0)"
		if grep -q '^[0-9]* [a-z]* bg_' "$RAW"; then
			say "WARNING: other processes used the CPUs during parts of" \
			    "this run; medians use the quiet rounds where there are" \
			    "any, and numbers marked ! had none (not reliable)"
		fi
		say ""
		printf '%-40s %11s %11s %14s\n' metric pinhole squid pinhole/squid
		arow() {	# label metric
			printf '%-40s %11s %11s %14s\n' "$1" "$(cell pinhole "$2" 0)" \
			    "$(cell squid "$2" 0)" "$(ratio "$(median pinhole "$2")" \
			    "$(median squid "$2")")"
		}
		alat() {	# metric
			al_c=""
			for al_t in pinhole squid; do
				al_5=$(median "$al_t" "${1}_p50")
				al_9=$(median "$al_t" "${1}_p99")
				if [ -z "$al_5" ]; then al_c="$al_c -"
				else al_c="$al_c $(ms "$al_5")/$(ms "$al_9")"; fi
			done
			# shellcheck disable=SC2086
			set -- $al_c
			printf '%-40s %11s %11s\n' "  p50 ms / p99 ms" "$1" "$2"
		}
		arow "tunnels/s, no auth (64B echo)" tun_none
		alat tun_none
		arow "tunnels/s, Basic (64B echo)" tun_basic
		alat tun_basic
		printf '%-40s %11s %11s\n' "  Basic / no auth" \
		    "$(ratio "$(median pinhole tun_basic)" "$(median pinhole tun_none)")" \
		    "$(ratio "$(median squid tun_basic)" "$(median squid tun_none)")"
		arow "handshakes/s, no auth (CONNECT, 200)" hs_none
		alat hs_none
		arow "NTLM handshakes/s (new connection)" hs_ntlm
		alat hs_ntlm
		arow "Negotiate handshakes/s (new connection)" hs_negotiate
		alat hs_negotiate
		say ""
		say "CPU busy (CPU 0: proxy and its helpers; CPU 1: loadgen+origin):"
		for at_m in tun_none tun_basic hs_none hs_ntlm hs_negotiate; do
			for at_t in pinhole squid; do
				[ -n "$(median "$at_t" "$at_m")" ] || continue
				printf '  %-13s %-8s CPU 0 %s  CPU 1 %s\n' "$at_m" "$at_t" \
				    "$(fmt "$(median "$at_t" "cpu0_$at_m")" 2)" \
				    "$(fmt "$(median "$at_t" "cpu1_$at_m")" 2)"
			done
		done
		if ran pinhole; then
			say ""
			say "targets (pinhole):"
			at_v=$(ratio "$(median pinhole tun_basic)" "$(median pinhole tun_none)")
			if [ "$at_v" = - ]; then
				printf '  %-46s %s\n' "Basic tunnels/s >= 0.9x without auth" \
				    "n/a (missing data)"
			elif awk -v a="$at_v" 'BEGIN { exit !(a + 0 >= 0.9) }'; then
				printf '  %-46s %-8s (%s >= 0.9)\n' \
				    "Basic tunnels/s >= 0.9x without auth" MET "$at_v"
			else
				printf '  %-46s %-8s (%s >= 0.9)\n' \
				    "Basic tunnels/s >= 0.9x without auth" "NOT MET" "$at_v"
			fi
		fi
		if [ -s "$NOTES" ]; then
			say ""
			say "* = errors in at least one round, ! = in every round" \
			    "other processes used more than $BG_MAX CPUs" \
			    "(unreliable); notes:"
			sed 's/^/  /' "$NOTES"
		fi
	} >"$AR"
	{
		cat "$AR"
		say ""
		say "per-round values (round target metric value; _p50/_p99 in us," \
		    "cpu0/cpu1 = busy fraction, bg = CPUs used by other processes," \
		    "err = error count):"
		sed 's/^/  /' "$RAW"
	} >"$AR.full"
	say ""
	cat "$AR"
	if ! ran pinhole && ! ran squid; then
		err "no auth measurement succeeded; results/latest-auth.txt left as it was"
		return 1
	fi
	if mkdir -p "$HERE/results" 2>/dev/null &&
	    cp "$AR.full" "$HERE/results/latest-auth.txt" 2>/dev/null; then
		say ""
		say "written to contrib/bench/results/latest-auth.txt" \
		    "(with the per-round values)"
	else
		err "could not write $HERE/results/latest-auth.txt"
	fi
	return 0
}

# The whole suite; 1 when it could not measure anything.
auth_suite() {
	# own raw values and notes, so that --suite all keeps two tables
	RAW="$TMP/raw-auth"
	NOTES="$TMP/notes-auth"
	: >"$RAW"
	: >"$NOTES"
	AUTH_START=$(date +%s)
	say ""
	say "pinhole auth bench: $ROUNDS round(s), ${T_TUN}s per number" \
	    "(+${WARM}s warm-up), concurrency $CONC; $PIN_NOTE"
	auth_build || exit 2
	if want_target pinhole && [ "$PINHOLE_OK" != 1 ]; then
		say "bench: skipping pinhole: $PINHOLE_WHY"
	fi
	if want_target squid && [ "$SQUID_OK" != 1 ]; then
		say "bench: skipping squid: $SQUID_WHY"
	fi
	auth_users
	[ -x "$SQUID_HELPERS/basic_ncsa_auth" ] && [ -x "$SQUID_HELPERS/ntlm_fake_auth" ] &&
	    [ -x "$SQUID_HELPERS/negotiate_kerberos_auth" ] ||
	    say "bench: auth: a Squid helper is missing in $SQUID_HELPERS;" \
	        "its Squid numbers will fail"
	auth_kdc
	round=1
	while [ "$round" -le "$ROUNDS" ]; do
		want_target pinhole && [ "$PINHOLE_OK" = 1 ] &&
		    auth_target "$round" pinhole
		want_target squid && [ "$SQUID_OK" = 1 ] &&
		    auth_target "$round" squid
		round=$((round + 1))
	done
	if [ -n "$AUTH_KDC_PID" ]; then
		kdc_stop
		pid_del "$AUTH_KDC_PID"
	fi
	AUTH_ELAPSED=$(( $(date +%s) - AUTH_START ))
	auth_report
}
