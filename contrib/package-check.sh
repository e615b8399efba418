#!/bin/sh
# contrib/package-check.sh [--host] - builds the Debian package from the
# tracked files of this tree and checks what it installs, as root on Debian 12.
#
# The package is built with dpkg-buildpackage in build-pkg/src (a copy of the
# tracked files, so the tree stays clean) and checked with lintian.  It is
# then installed with apt into a minimal bookworm chroot that debootstrap
# makes once in build-pkg/chroot from the Debian mirror of apt's sources
# (kept for the next run; delete it to start afresh), where the script checks
# the files, owners, conffiles, the user, the unit (enabled, systemd-analyze
# verify, security exposure at most 4), runs pinhole as the user pinhole on
# the installed configuration in a network namespace of its own, rotates its
# log with logrotate, reinstalls over an edited configuration and purges.
# --host (or a mirror that cannot be reached) installs on this machine
# instead and purges the package afterwards; it refuses when pinhole is
# already installed here.  The tools: sh contrib/setup.sh package.
#
# Output: one line per check, then "N passed, N failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
work=$top/build-pkg
mode=chroot
[ "${1:-}" = --host ] && mode=host

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok:   $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
}
# check DESCRIPTION COMMAND...: runs COMMAND, ok when it exits 0.
check() {
	what=$1
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		bad "$what"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/      /' | head -20
	fi
	return 0
}
die() {
	echo "package-check: $*" >&2
	exit 2
}

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and makes a chroot)"
for t in dpkg-buildpackage dh lintian debootstrap systemd-analyze unshare; do
	command -v $t >/dev/null 2>&1 || die "$t is missing: sh contrib/setup.sh package installs the tools"
done

version=$(sed -n 's/^AC_INIT(\[pinhole\], \[\([^]]*\)\].*/\1/p' configure.ac)
debversion=$(dpkg-parsechangelog -S Version)
case "$debversion" in
"$version"-*) ok "debian/changelog's version $debversion matches configure.ac's $version" ;;
*) bad "debian/changelog's version $debversion does not match configure.ac's $version" ;;
esac
arch=$(dpkg --print-architecture)
deb=pinhole_${debversion}_$arch.deb

# Build -----------------------------------------------------------------------
src=$work/src/pinhole-$version
rm -rf "$work/src"
mkdir -p "$src"
git ls-files -z | xargs -0 cp --parents -t "$src" || die "cannot copy the tree to $src"
echo "package-check: building in $src (log: $work/build.log)"
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b builds $deb"
else
	bad "dpkg-buildpackage failed:"
	tail -30 "$work/build.log" | sed 's/^/      /'
	echo "$passed passed, $failed failed"
	exit 1
fi
debpath=$work/src/$deb

lintian --pedantic "$work/src/pinhole_${debversion}_$arch.changes" >"$work/lintian.log" 2>&1
sed 's/^/      lintian: /' "$work/lintian.log"
if grep -q '^E:' "$work/lintian.log"; then
	bad "lintian reports errors"
else
	ok "lintian reports no errors ($(grep -c '^W:' "$work/lintian.log") warnings)"
fi

# Where to install: a chroot, or this machine ----------------------------------
root=
mounted=
cleanup() {
	[ -n "$mounted" ] && umount "$root/proc" 2>/dev/null
	if [ "$mode" = host ] && [ -n "${host_installed:-}" ]; then
		dpkg --purge pinhole >/dev/null 2>&1
		[ -n "${host_user_made:-}" ] && deluser --system pinhole >/dev/null 2>&1
	fi
}
trap cleanup EXIT INT TERM

mirror() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && awk '/^URIs:/ && $2 ~ /\/debian\/?$/ { print $2; exit }' "$f"
	done | head -1
	[ -f /etc/apt/sources.list ] &&
		awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list
}

if [ "$mode" = chroot ]; then
	root=$work/chroot
	if [ ! -f "$root/.pinhole-chroot" ]; then
		m=$(mirror | head -1)
		rm -rf "$root" "$root.tmp"
		echo "package-check: debootstrap bookworm from ${m:-?} into $root (log: $work/debootstrap.log)"
		if [ -n "$m" ] && debootstrap --variant=minbase bookworm "$root.tmp" "$m" >"$work/debootstrap.log" 2>&1; then
			# A Debian server: systemd (for systemctl and systemd-analyze
			# on the installed unit) and logrotate.
			printf '#!/bin/sh\nexit 101\n' >"$root.tmp/usr/sbin/policy-rc.d"
			chmod 755 "$root.tmp/usr/sbin/policy-rc.d"
			mount -t proc proc "$root.tmp/proc"
			if chroot "$root.tmp" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd logrotate' \
				>>"$work/debootstrap.log" 2>&1; then
				touch "$root.tmp/.pinhole-chroot"
			fi
			umount "$root.tmp/proc"
		fi
		if [ -f "$root.tmp/.pinhole-chroot" ]; then
			mv "$root.tmp" "$root"
		else
			echo "package-check: no chroot (the mirror cannot be reached? see $work/debootstrap.log): installing on this machine" >&2
			rm -rf "$root.tmp"
			mode=host
			root=
		fi
	fi
fi
if [ "$mode" = host ]; then
	dpkg-query -W -f='${Status}' pinhole 2>/dev/null | grep -q 'install ok installed' &&
		die "pinhole is installed on this machine: not testing over it (use the chroot)"
	getent passwd pinhole >/dev/null || host_user_made=1
fi

# in_root CMD...: runs CMD in the chroot, or here.
in_root() {
	if [ -n "$root" ]; then chroot "$root" "$@"; else "$@"; fi
}

if [ -n "$root" ]; then
	mount -t proc proc "$root/proc" && mounted=1
	# An installation left by an earlier run that stopped half-way.
	chroot "$root" dpkg --purge pinhole >/dev/null 2>&1
	chroot "$root" sh -c 'getent passwd pinhole >/dev/null && deluser --system pinhole' >/dev/null 2>&1
	cp "$debpath" "$root/tmp/$deb"
	debin=/tmp/$deb
else
	debin=$debpath
fi

# Install ------------------------------------------------------------------------
echo "package-check: installing $deb ${root:+into $root}${root:-on this machine}"
if in_root sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $debin" \
	>"$work/install.log" 2>&1; then
	ok "apt-get install $deb (dependencies from the archive)"
	host_installed=1
else
	bad "apt-get install $deb failed:"
	tail -20 "$work/install.log" | sed 's/^/      /'
	echo "$passed passed, $failed failed"
	exit 1
fi

# Files, owners, conffiles, the user ------------------------------------------------
r=${root:-}
check "/usr/sbin/pinhole is an executable" test -x "$r/usr/sbin/pinhole" -a ! -e "$r/usr/bin/pinhole"
for f in /usr/share/pinhole/presets/webex.conf /usr/share/pinhole/presets/tokbox.conf \
	/usr/share/pinhole/presets/cms.conf /usr/share/man/man8/pinhole.8.gz \
	/usr/share/man/man5/pinhole.conf.5.gz /etc/logrotate.d/pinhole /lib/systemd/system/pinhole.service \
	/usr/share/doc/pinhole/examples/low-port.conf /usr/share/doc/pinhole/examples/winbind.conf; do
	check "$f is installed" test -f "$r$f"
done
conffiles=$(in_root dpkg-query -W --showformat='${Conffiles}\n' pinhole)
check "/etc/pinhole/pinhole.conf is a conffile" sh -c "printf '%s\n' '$conffiles' | grep -q '^ /etc/pinhole/pinhole.conf '"
check "/etc/logrotate.d/pinhole is a conffile" sh -c "printf '%s\n' '$conffiles' | grep -q '^ /etc/logrotate.d/pinhole '"
pw=$(in_root getent passwd pinhole)
check "the system user pinhole exists, home /var/lib/pinhole, no login shell" \
	sh -c "printf '%s\n' '$pw' | awk -F: '\$3 < 1000 && \$6 == \"/var/lib/pinhole\" && \$7 ~ /nologin|false/ { ok = 1 } END { exit !ok }'"
check "the group pinhole is the user's group" test "$(in_root id -gn pinhole)" = pinhole
stat_of() { in_root stat -c '%U:%G %a' "$1"; }
check "/var/log/pinhole is pinhole:pinhole 755 (got $(stat_of /var/log/pinhole))" \
	test "$(stat_of /var/log/pinhole)" = "pinhole:pinhole 755"
check "/var/lib/pinhole is pinhole:pinhole 750 (got $(stat_of /var/lib/pinhole))" \
	test "$(stat_of /var/lib/pinhole)" = "pinhole:pinhole 750"

# The unit ------------------------------------------------------------------------
if [ -n "$root" ]; then
	check "pinhole.service is enabled" systemctl --root="$root" -q is-enabled pinhole.service
	check "systemd-analyze verify pinhole.service is clean" \
		sh -c "out=\$(chroot '$root' systemd-analyze verify --man=no pinhole.service 2>&1); printf '%s' \"\$out\"; [ -z \"\$out\" ]"
	sec=$(chroot "$root" systemd-analyze security --offline=true pinhole.service 2>&1 | tail -1)
else
	check "pinhole.service is enabled" systemctl -q is-enabled pinhole.service
	check "systemd-analyze verify pinhole.service is clean" \
		sh -c "out=\$(systemd-analyze verify --man=no /lib/systemd/system/pinhole.service 2>&1); printf '%s' \"\$out\"; [ -z \"\$out\" ]"
	sec=$(systemd-analyze security --offline=true /lib/systemd/system/pinhole.service 2>&1 | tail -1)
fi
exposure=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for pinhole.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: exposure ${exposure:-?} (at most 4)" \
	awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 4) }'

# The installed configuration, as the unit runs it ----------------------------------
check "pinhole validate -c /etc/pinhole/pinhole.conf passes as the user pinhole" \
	in_root setpriv --reuid=pinhole --regid=pinhole --init-groups /usr/sbin/pinhole validate -c /etc/pinhole/pinhole.conf
if [ -n "$root" ] && command -v logrotate >/dev/null 2>&1; then
	check "logrotate accepts /etc/logrotate.d/pinhole" chroot "$root" logrotate -d /etc/logrotate.d/pinhole
fi

# Run it as the service would (user pinhole, /run/pinhole made for it), in a network
# namespace of its own: a request lands in /var/log/pinhole/access.log; logrotate
# rotates it and pinhole, told by SIGUSR1, writes the next request to the new file.
if [ -n "$root" ]; then
	cat >"$root/tmp/run-check.sh" <<'EOF'
set -u
mkdir -p /run/pinhole && chown pinhole:pinhole /run/pinhole
rm -f /var/log/pinhole/access.log*
setpriv --reuid=pinhole --regid=pinhole --init-groups /usr/sbin/pinhole run -c /etc/pinhole/pinhole.conf \
	>/tmp/pinhole.out 2>&1 &
pid=$!
say() { echo "$1 $2"; }
i=0
while ! [ -s /run/pinhole/pinhole.pid ] && [ $i -lt 50 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if ! kill -0 $pid 2>/dev/null; then
	say FAIL "pinhole runs on the installed configuration as the user pinhole: it exited: $(head -3 /tmp/pinhole.out)"
	exit 0
fi
say ok "pinhole runs on the installed configuration as the user pinhole"
[ "$(cat /run/pinhole/pinhole.pid 2>/dev/null)" = $pid ] &&
	say ok "its pid file /run/pinhole/pinhole.pid holds its pid" ||
	say FAIL "its pid file /run/pinhole/pinhole.pid holds its pid (got '$(cat /run/pinhole/pinhole.pid 2>/dev/null)', pid $pid)"
printf 'GET http://127.0.0.1:9/first HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n' |
	timeout 5 perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:3128") or exit 1; print $s <STDIN>; print while <$s>' >/tmp/first.out
sleep 0.3
grep -q 'GET http://127.0.0.1:9/first' /var/log/pinhole/access.log 2>/dev/null &&
	say ok "a request is logged in /var/log/pinhole/access.log" ||
	say FAIL "a request is logged in /var/log/pinhole/access.log (answer: $(head -1 /tmp/first.out))"
logrotate -f /etc/logrotate.d/pinhole >/tmp/logrotate.out 2>&1 &&
	say ok "logrotate -f rotates the log" ||
	say FAIL "logrotate -f rotates the log: $(cat /tmp/logrotate.out)"
sleep 0.5
if kill -0 $pid 2>/dev/null; then
	say ok "pinhole still runs after the rotation's SIGUSR1"
else
	say FAIL "pinhole still runs after the rotation's SIGUSR1: it is gone: $(tail -2 /tmp/pinhole.out)"
fi
grep -q /first /var/log/pinhole/access.log.1 2>/dev/null &&
	say ok "the first request is in access.log.1" || say FAIL "the first request is in access.log.1"
st=$(stat -c '%U:%G %a' /var/log/pinhole/access.log 2>/dev/null)
[ "$st" = "pinhole:adm 640" ] && say ok "the new access.log is pinhole:adm 640" ||
	say FAIL "the new access.log is pinhole:adm 640 (got '$st')"
printf 'GET http://127.0.0.1:9/second HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n' |
	timeout 5 perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new("127.0.0.1:3128") or exit 1; print $s <STDIN>; print while <$s>' >/dev/null
sleep 0.3
grep -q /second /var/log/pinhole/access.log 2>/dev/null &&
	say ok "after SIGUSR1 the next request goes to the new access.log" ||
	say FAIL "after SIGUSR1 the next request goes to the new access.log"
kill -TERM $pid 2>/dev/null
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 $pid 2>/dev/null && { say FAIL "pinhole stops on SIGTERM"; kill -KILL $pid; } || say ok "pinhole stops on SIGTERM"
rm -rf /run/pinhole
EOF
	unshare -n sh -c "ip link set lo up && chroot '$root' sh /tmp/run-check.sh" >"$work/run-check.log" 2>&1
	while read -r verdict what; do
		case "$verdict" in
		ok) ok "$what" ;;
		FAIL) bad "$what" ;;
		*) echo "      $verdict $what" ;;
		esac
	done <"$work/run-check.log"
	rm -f "$root/tmp/run-check.sh"
fi

# Upgrade over an edited configuration, then purge ---------------------------------
echo "# edited by the admin" >>"$r/etc/pinhole/pinhole.conf"
in_root sh -c "DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold $debin" >>"$work/install.log" 2>&1
check "reinstalling keeps the edited /etc/pinhole/pinhole.conf" grep -q '^# edited by the admin' "$r/etc/pinhole/pinhole.conf"
in_root dpkg --purge pinhole >>"$work/install.log" 2>&1
host_installed=
check "purge removes /var/log/pinhole, /var/lib/pinhole and /etc/pinhole" \
	sh -c "! test -e '$r/var/log/pinhole' && ! test -e '$r/var/lib/pinhole' && ! test -e '$r/etc/pinhole'"
check "purge removes the unit and its enablement" \
	sh -c "! test -e '$r/lib/systemd/system/pinhole.service' && ! test -e '$r/etc/systemd/system/multi-user.target.wants/pinhole.service'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
