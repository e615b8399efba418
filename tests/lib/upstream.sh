# tests/lib/upstream.sh - parent proxies for the upstream-proxy scenarios:
# Debian's Squid as a test daemon, and a second pinhole.  Sourced after
# tests/lib/harness.sh:
#
#     . "$PH_LIB/upstream.sh"
#     squid_start PARENT <<EOF          # squid.conf lines of the scenario
#     http_access allow all
#     EOF
#     ...                               # $PARENT is its port on 127.0.0.1
#     squid_log_matching REGEX          # a line of its access log ($SQUID_LOG)
#
# Squid gets a port from free_port, a config, logs and a PID file of its
# own under $T/squid (nothing under /etc or /var), no cache, the scenario's
# $T/hosts as its hosts_file, and runs in the foreground (-N) as one of the
# harness's processes, so it is stopped on exit, pass or fail.  Started as
# root it drops to its `proxy` user: $T becomes traversable (711), $T/squid
# writable, and files it must read (credentials, keytabs) must be readable
# by others; the scenario's own secrets stay in files only root reads.
# Its logs are linked as $T/squid-access.log and $T/squid-cache.log, so a
# failing scenario prints them.
#
#     PARENT=$(free_port)
#     parent_pinhole_start PARENT <<EOF  # a whole pinhole.conf, as pinhole_start
#     listen 127.0.0.1:$PARENT
#     access-log $T/parent-access.log squid
#     ...
#     EOF
#
# runs a second pinhole from that config ($T/PARENT.conf; its stderr is
# $T/pinhole-PARENT.err, checked for sanitizer reports like the first's).

SQUID_BIN=$(PATH=$PATH:/usr/sbin:/sbin command -v squid) || SQUID_BIN=

# squid_start VAR [HTTPS_CERT HTTPS_KEY] < LINES: starts Squid with an
# http_port on 127.0.0.1:$VAR, or an https_port with that certificate and
# key, and the lines on stdin; returns once it accepts connections.
squid_start() {
	local var=$1 port i dir=$T/squid listen
	[ -n "$SQUID_BIN" ] || skip "needs Squid (apt-get install squid-openssl)"
	port=$(free_port)
	mkdir -p "$dir"
	chmod 711 "$T"
	chmod 777 "$dir"
	touch "$T/hosts"
	chmod 644 "$T/hosts"
	if [ -n "${2:-}" ]; then
		cp "$2" "$dir/https.pem" && cp "$3" "$dir/https.key" && chmod 644 "$dir/https.pem" "$dir/https.key"
		listen="https_port 127.0.0.1:$port tls-cert=$dir/https.pem tls-key=$dir/https.key"
	else
		listen="http_port 127.0.0.1:$port"
	fi
	{
		cat <<EOF
# written by tests/lib/upstream.sh for $SCENARIO
$listen
cache deny all
access_log stdio:$dir/access.log squid
cache_store_log none
cache_log $dir/cache.log
pid_filename $dir/squid.pid
coredump_dir $dir
workers 1
shutdown_lifetime 0 seconds
pinger_enable off
visible_hostname parent.pinhole.test
hosts_file $T/hosts
forwarded_for delete
via off
EOF
		cat
	} >"$dir/squid.conf"
	: >"$dir/access.log"
	chmod 666 "$dir/access.log"
	# The harness prints $T/*.log when a scenario fails.
	ln -sf squid/access.log "$T/squid-access.log"
	ln -sf squid/cache.log "$T/squid-cache.log"
	spawn squid "$SQUID_BIN" -N -f "$dir/squid.conf"
	for ((i = 0; i < 150; i++)); do
		port_listening "$port" && break
		if ! alive "$SPAWNED_PID"; then
			reap "$SPAWNED_PID"
			fail "Squid exited (status $WAIT_RC) before listening: $(tail -n 20 "$dir/cache.log" "$T/squid.err" 2>/dev/null)"
		fi
		sleep 0.1
	done
	port_listening "$port" || fail "Squid does not listen on port $port after 15 s"
	SQUID_PID=$SPAWNED_PID
	SQUID_LOG=$dir/access.log
	printf -v "$var" '%s' "$port"
}

# squid_log_matching REGEX: waits (up to 5 s) for a line of Squid's access
# log matching the ERE; the last such line is in $LINE.
squid_log_matching() {
	log_line_matching "$1" "$SQUID_LOG"
}

# parent_pinhole_start VAR < CONFIG: a second pinhole (PID in ${VAR}_PID)
# from CONFIG, which listens on $VAR; returns once it accepts connections.
parent_pinhole_start() {
	local var=$1 port i
	port=${!var}
	cat >"$T/$var.conf"
	spawn "pinhole-$var" "$PINHOLE" run -c "$T/$var.conf"
	printf -v "${var}_PID" '%s' "$SPAWNED_PID"
	for ((i = 0; i < 150; i++)); do
		port_listening "$port" && return 0
		if ! alive "$SPAWNED_PID"; then
			reap "$SPAWNED_PID"
			fail "the parent pinhole exited (status $WAIT_RC): $(tail -n 5 "$T/pinhole-$var.err")"
		fi
		sleep 0.1
	done
	fail "the parent pinhole does not listen on port $port after 15 s"
}
