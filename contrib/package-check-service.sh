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
