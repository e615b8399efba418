# tests/lib/kdc.sh - a throwaway MIT Kerberos realm for tests: a KDC on
# 127.0.0.1 at a free port, its database, keytabs and a private credential
# cache, all under one directory.  Sourceable from sh (dash) and bash; it
# never reads or writes /etc, and stops only the KDC it started (by PID).
#
#     . "$PH_SRCDIR/tests/lib/kdc.sh"
#     kdc_start "$T/kdc" TEST.PINHOLE pinhole.test || exit 1
#     kdc_add_user alice alicepw
#     kdc_add_service HTTP/proxy.pinhole.test "$T/proxy.keytab"
#     kdc_kinit alice alicepw                   # into $KRB5CCNAME
#     ...                                       # curl --proxy-negotiate -U : ...
#     kdc_stop
#
# kdc_start exports KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME (DIR/ccache),
# KRB5RCACHEDIR (DIR, the acceptor's replay cache) and sets KDC_DIR,
# KDC_REALM, KDC_PORT and KDC_PID.  Inside tests/lib/harness.sh the KDC is
# also one of the harness's processes, so it is stopped on exit, pass or fail;
# elsewhere the caller traps kdc_stop.  The optional third argument of
# kdc_start maps that DNS domain to the realm (krb5.conf [domain_realm]);
# host names are never canonicalised through DNS (dns_canonicalize_hostname
# and rdns are off), so test names need not resolve for the client library.
# Names and passwords go into kadmin queries as they are: no spaces or quotes.
# Functions return non-zero with a message on stderr when something fails;
# the KDC's log is DIR/kdc.log, kadmin's output DIR/kadmin.out.

KDC_MASTER_PASSWORD=pinhole-test-master

# kdc_have_binaries: true when the MIT KDC tools are installed (krb5-kdc).
kdc_have_binaries() {
	PATH=$PATH:/usr/sbin:/sbin
	command -v krb5kdc >/dev/null 2>&1 &&
		command -v kdb5_util >/dev/null 2>&1 &&
		command -v kadmin.local >/dev/null 2>&1
}

# True when a TCP or UDP socket (IPv4 or IPv6) uses local port $1.
kdc_port_in_use() {
	kdc_hex=$(printf '%04X' "$1")
	awk -v p=":$kdc_hex" 'FNR > 1 && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null
}

# True when some socket listens on TCP port $1.
kdc_port_listening() {
	kdc_hex=$(printf '%04X' "$1")
	awk -v p=":$kdc_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# A port in 12000-19999 (below the harness's range and the kernel's
# ephemeral range) that no TCP or UDP socket uses now.
kdc_free_port() {
	kdc_i=0
	while [ "$kdc_i" -lt 200 ]; do
		kdc_i=$((kdc_i + 1))
		kdc_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		kdc_p=$((12000 + kdc_r % 8000))
		kdc_port_in_use "$kdc_p" && continue
		echo "$kdc_p"
		return 0
	done
	echo "kdc.sh: no free port found in 12000-19999" >&2
	return 1
}

# True while PID $1 runs (an exited, unreaped child counts as gone).
kdc_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	kdc_state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$kdc_state" ] && [ "$kdc_state" != Z ]
}

kdc_write_config() {
	cat >"$KDC_DIR/krb5.conf" <<EOF
[libdefaults]
	default_realm = $KDC_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	ticket_lifetime = 1h
	forwardable = false
	udp_preference_limit = 1

[realms]
	$KDC_REALM = {
		kdc = 127.0.0.1:$KDC_PORT
	}
EOF
	if [ -n "$KDC_DOMAIN" ]; then
		cat >>"$KDC_DIR/krb5.conf" <<EOF

[domain_realm]
	.$KDC_DOMAIN = $KDC_REALM
	$KDC_DOMAIN = $KDC_REALM
EOF
	fi
	cat >"$KDC_DIR/kdc.conf" <<EOF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$KDC_PORT
	kdc_tcp_listen = 127.0.0.1:$KDC_PORT

[realms]
	$KDC_REALM = {
		database_name = $KDC_DIR/principal
		key_stash_file = $KDC_DIR/stash
		acl_file = $KDC_DIR/kadm5.acl
		kdc_listen = 127.0.0.1:$KDC_PORT
		kdc_tcp_listen = 127.0.0.1:$KDC_PORT
		max_life = 1h
		max_renewable_life = 0
	}

[logging]
	kdc = FILE:$KDC_DIR/kdc.log
	admin_server = FILE:$KDC_DIR/kadmind.log
	default = FILE:$KDC_DIR/krb5lib.log
EOF
}

# kadmin.local QUERY: runs one kadmin query on the realm's database; its
# output is appended to DIR/kadmin.out.  kadmin.local exits 0 even when the
# query fails, so its error lines are checked too.
kdc_kadmin() {
	echo "## kadmin.local -q \"$1\"" >>"$KDC_DIR/kadmin.out"
	kdc_out=$(kadmin.local -r "$KDC_REALM" -q "$1" 2>&1)
	kdc_rc=$?
	printf '%s\n' "$kdc_out" >>"$KDC_DIR/kadmin.out"
	if [ "$kdc_rc" != 0 ] ||
		printf '%s\n' "$kdc_out" | grep -Eq '(^| )(error|Error|while |usage|Usage|Invalid)'; then
		echo "kdc.sh: kadmin.local -q \"$1\" failed:" >&2
		printf '%s\n' "$kdc_out" | grep -v '^Authenticating as' >&2
		return 1
	fi
	return 0
}

# kdc_start DIR REALM [DOMAIN]: makes the realm's database under DIR (created
# if needed) and runs krb5kdc in the foreground of a background job, on
# 127.0.0.1:KDC_PORT (TCP and UDP); returns once it accepts connections.
kdc_start() {
	if ! kdc_have_binaries; then
		echo "kdc.sh: needs the MIT KDC (apt-get install krb5-kdc krb5-admin-server)" >&2
		return 1
	fi
	mkdir -p "$1" || return 1
	KDC_DIR=$(cd "$1" && pwd) || return 1
	KDC_REALM=$2
	KDC_DOMAIN=${3:-}
	KDC_PID=
	KRB5_CONFIG=$KDC_DIR/krb5.conf
	KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf
	KRB5CCNAME=FILE:$KDC_DIR/ccache
	KRB5RCACHEDIR=$KDC_DIR
	export KRB5_CONFIG KRB5_KDC_PROFILE KRB5CCNAME KRB5RCACHEDIR
	: >"$KDC_DIR/kadm5.acl"

	# The port is only in the two profiles: the database is made once and
	# a port another process took meanwhile costs a new port, not a new
	# database.
	kdc_try=0
	while [ "$kdc_try" -lt 5 ]; do
		kdc_try=$((kdc_try + 1))
		KDC_PORT=$(kdc_free_port) || return 1
		kdc_write_config
		if [ ! -f "$KDC_DIR/principal" ]; then
			if ! kdb5_util -r "$KDC_REALM" create -s -P "$KDC_MASTER_PASSWORD" \
				>"$KDC_DIR/kdb5_util.out" 2>&1; then
				echo "kdc.sh: kdb5_util create failed:" >&2
				cat "$KDC_DIR/kdb5_util.out" >&2
				return 1
			fi
		fi
		krb5kdc -n -r "$KDC_REALM" </dev/null >>"$KDC_DIR/krb5kdc.out" 2>&1 &
		KDC_PID=$!
		echo "$KDC_PID" >"$KDC_DIR/kdc.pid"
		if [ -n "${BASH_VERSION:-}" ] && declare -p PH_PIDS >/dev/null 2>&1; then
			eval 'PH_PIDS+=("$KDC_PID")'
		fi
		kdc_i=0
		while [ "$kdc_i" -lt 100 ]; do
			kdc_port_listening "$KDC_PORT" && return 0
			kdc_alive "$KDC_PID" || break
			kdc_i=$((kdc_i + 1))
			sleep 0.1
		done
		if kdc_alive "$KDC_PID"; then
			echo "kdc.sh: krb5kdc did not listen on 127.0.0.1:$KDC_PORT within 10 s" >&2
			kdc_stop
			return 1
		fi
		wait "$KDC_PID" 2>/dev/null
		KDC_PID=
		rm -f "$KDC_DIR/kdc.pid"
		echo "kdc.sh: krb5kdc exited on port $KDC_PORT; trying another port" >&2
		tail -n 5 "$KDC_DIR/krb5kdc.out" "$KDC_DIR/kdc.log" 2>/dev/null >&2
	done
	echo "kdc.sh: krb5kdc would not start (see $KDC_DIR/kdc.log)" >&2
	return 1
}

# kdc_add_user NAME PASSWORD: a user principal NAME@REALM.
kdc_add_user() {
	kdc_kadmin "addprinc -pw $2 $1"
}

# kdc_add_service PRINCIPAL [KEYTAB]: a service principal with a random key
# (created if it does not exist yet), exported into KEYTAB when given
# (appended; the key is not changed by the export, so several keytabs may
# hold it).  PRINCIPAL without a realm is in the test realm.
kdc_add_service() {
	if ! kadmin.local -r "$KDC_REALM" -q "getprinc $1" 2>&1 | grep -q '^Principal: '; then
		kdc_kadmin "addprinc -randkey $1" || return 1
	fi
	[ -z "${2:-}" ] && return 0
	kdc_kadmin "ktadd -k $2 -norandkey $1" || return 1
	[ -s "$2" ] || {
		echo "kdc.sh: no keytab at $2 after ktadd" >&2
		return 1
	}
}

# kdc_rekey PRINCIPAL: gives PRINCIPAL a new random key (a new key version),
# so that keytabs exported before hold a stale key.
kdc_rekey() {
	kdc_kadmin "cpw -randkey $1"
}

# kdc_kinit NAME PASSWORD: gets NAME's initial ticket into $KRB5CCNAME
# (needs kinit: apt-get install krb5-user).
kdc_kinit() {
	if ! command -v kinit >/dev/null 2>&1; then
		echo "kdc.sh: kdc_kinit needs kinit (apt-get install krb5-user)" >&2
		return 1
	fi
	printf '%s\n' "$2" | kinit "$1" >"$KDC_DIR/kinit.out" 2>&1 || {
		echo "kdc.sh: kinit $1 failed:" >&2
		cat "$KDC_DIR/kinit.out" >&2
		return 1
	}
}

# kdc_stop: stops the KDC this shell started (SIGTERM, SIGKILL after 3 s).
# Without KDC_PID it takes DIR/kdc.pid, and then only if that PID is still a
# krb5kdc.
kdc_stop() {
	kdc_pid=${KDC_PID:-}
	if [ -z "$kdc_pid" ] && [ -n "${KDC_DIR:-}" ] && [ -r "$KDC_DIR/kdc.pid" ]; then
		kdc_pid=$(cat "$KDC_DIR/kdc.pid")
		tr '\0' ' ' <"/proc/$kdc_pid/cmdline" 2>/dev/null | grep -q krb5kdc || kdc_pid=
	fi
	[ -n "$kdc_pid" ] || return 0
	kill -TERM "$kdc_pid" 2>/dev/null
	kdc_i=0
	while kdc_alive "$kdc_pid" && [ "$kdc_i" -lt 30 ]; do
		kdc_i=$((kdc_i + 1))
		sleep 0.1
	done
	kdc_alive "$kdc_pid" && kill -KILL "$kdc_pid" 2>/dev/null
	wait "$kdc_pid" 2>/dev/null
	KDC_PID=
	[ -n "${KDC_DIR:-}" ] && rm -f "$KDC_DIR/kdc.pid"
	return 0
}
