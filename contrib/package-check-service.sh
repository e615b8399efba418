#!/bin/sh
# contrib/package-check-service.sh - run by contrib/package-check.sh inside a
# container booted with systemd, where the pinhole package is installed:
# checks pinhole.service as an admin meets it (started at boot, answering,
# reloaded, its log rotated, stopped).  One "ok WHAT" or "FAIL WHAT" line per
# check on stdout ("log LINE" for context).

say() { echo "$1 $2"; }
# req HOST:PORT RAW: the status line of the answer to the raw request RAW.
req() {
	printf "$2" | timeout 5 perl -MIO::Socket::INET -e \
		'$s = IO::Socket::INET->new($ARGV[0]) or exit 1; print $s <STDIN>; print while <$s>' "$1" | head -1
}
active() { systemctl -q is-active pinhole.service; }
result() { systemctl show -p Result --value pinhole.service; }
journal() { journalctl -u pinhole.service --no-pager -o cat | tail -"$1" | sed 's/^/log /'; }

if ! active; then
	say FAIL "pinhole.service starts at boot (result: $(result))"
	journal 8
	exit 0
fi
say ok "pinhole.service starts at boot (Type=notify, as the user pinhole, in its sandbox)"
pid=$(systemctl show -p MainPID --value pinhole.service)
st=$(grep -E '^(Uid|CapEff|NoNewPrivs|Seccomp):' "/proc/$pid/status" | awk '{ printf "%s%s ", $1, $2 }')
want="Uid:$(id -u pinhole) CapEff:0000000000000000 NoNewPrivs:1 Seccomp:2 "
[ "$st" = "$want" ] &&
	say ok "it runs as pinhole, with no capabilities, no new privileges and a system call filter" ||
	say FAIL "it runs as pinhole, with no capabilities, no new privileges and a system call filter (got $st)"
policy=$(awk '{ print $41 }' "/proc/$pid/stat")
[ "$policy" = 0 ] &&
	say ok "its main thread is SCHED_OTHER once the admin interface has started" ||
	say FAIL "its main thread is SCHED_OTHER once the admin interface has started (policy $policy)"

r=$(req 127.0.0.1:3128 'GET http://127.0.0.1:9/first HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n')
sleep 0.3
grep -q /first /var/log/pinhole/access.log 2>/dev/null &&
	say ok "a request is answered (${r%?}) and logged in /var/log/pinhole/access.log" ||
	say FAIL "a request is answered and logged in /var/log/pinhole/access.log (answer: '$r')"
r=$(req 127.0.0.1:3129 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
case "$r" in
*" 200 "*) say ok "the admin interface answers /healthz" ;;
*) say FAIL "the admin interface answers /healthz (answer: '$r')" ;;
esac

if systemctl reload pinhole.service >/tmp/reload.out 2>&1 && active; then
	say ok "systemctl reload pinhole succeeds and pinhole keeps running"
else
	say FAIL "systemctl reload pinhole succeeds and pinhole keeps running"
	journal 3
fi

[ "$(cat /run/pinhole/pinhole.pid 2>/dev/null)" = "$pid" ] &&
	say ok "/run/pinhole/pinhole.pid holds the main pid" ||
	say FAIL "/run/pinhole/pinhole.pid holds the main pid (it holds '$(cat /run/pinhole/pinhole.pid 2>&1)')"

# A broken file: systemctl reload fails and says why, the old configuration
# stays in force.
cp /etc/pinhole/pinhole.conf /tmp/pinhole.conf.good
echo "alow all" >>/etc/pinhole/pinhole.conf
if systemctl reload pinhole.service >/tmp/reload-bad.out 2>&1; then
	say FAIL "systemctl reload fails on a broken configuration"
elif journalctl -u pinhole.service --no-pager -o cat | grep -q "pinhole.conf:[0-9]*: unknown directive 'alow'"; then
	say ok "systemctl reload fails on a broken configuration, its FILE:LINE error in the journal"
else
	say FAIL "systemctl reload fails on a broken configuration, its FILE:LINE error in the journal"
	journal 4
fi
if active && [ "$(systemctl show -p MainPID --value pinhole.service)" = "$pid" ] &&
	systemctl show -p StatusText --value pinhole.service | grep -q "was refused"; then
	say ok "pinhole keeps running the old configuration, and its status says the reload was refused"
else
	say FAIL "pinhole keeps running the old configuration, and its status says the reload was refused ($(systemctl show -p StatusText --value pinhole.service))"
fi
cp /tmp/pinhole.conf.good /etc/pinhole/pinhole.conf
systemctl reload pinhole.service >/dev/null 2>&1 && active &&
	say ok "systemctl reload succeeds again once the file is fixed" ||
	say FAIL "systemctl reload succeeds again once the file is fixed"

# A second pinhole on the service's port does not start.
printf 'listen 127.0.0.1:3128\naccess-log off\nallow all\n' >/tmp/second.conf
chmod 644 /tmp/second.conf
out=$(runuser -u pinhole -- timeout 10 /usr/sbin/pinhole run -c /tmp/second.conf 2>&1)
rc=$?
if [ "$rc" = 1 ] && printf '%s' "$out" | grep -q "cannot listen on 127.0.0.1:3128: the address is in use by another process"; then
	say ok "a second pinhole on 127.0.0.1:3128 exits 1: $(printf '%s' "$out" | tail -1)"
else
	say FAIL "a second pinhole on 127.0.0.1:3128 exits 1 (exit $rc: $out)"
fi

logrotate -f /etc/logrotate.d/pinhole >/tmp/logrotate.out 2>&1 &&
	say ok "logrotate -f rotates /var/log/pinhole/access.log" ||
	say FAIL "logrotate -f rotates /var/log/pinhole/access.log: $(head -3 /tmp/logrotate.out)"
sleep 0.5
if active && [ "$(systemctl show -p MainPID --value pinhole.service)" = "$pid" ]; then
	say ok "pinhole keeps running after the rotation's SIGUSR1"
else
	say FAIL "pinhole keeps running after the rotation's SIGUSR1 (result: $(result))"
	journal 2
fi
grep -q /first /var/log/pinhole/access.log.1 2>/dev/null &&
	say ok "the request is in access.log.1" || say FAIL "the request is in access.log.1"
st=$(stat -c '%U:%G %a' /var/log/pinhole/access.log 2>/dev/null)
[ "$st" = "pinhole:adm 640" ] && say ok "the new access.log is pinhole:adm 640" ||
	say FAIL "the new access.log is pinhole:adm 640 (got '$st')"
if active; then
	req 127.0.0.1:3128 'GET http://127.0.0.1:9/second HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n' >/dev/null
	sleep 0.3
fi
grep -q /second /var/log/pinhole/access.log 2>/dev/null &&
	say ok "the next request goes to the new access.log" || say FAIL "the next request goes to the new access.log"

if active; then
	systemctl stop pinhole.service
	[ "$(result)" = success ] && say ok "systemctl stop pinhole stops it cleanly" ||
		say FAIL "systemctl stop pinhole stops it cleanly (result: $(result))"
fi
