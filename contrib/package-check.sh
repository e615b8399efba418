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
# verify, security exposure at most 4); then boots the chroot with systemd in
# a container (systemd-nspawn) where pinhole.service starts, answers, reloads,
# has its log rotated and stops (contrib/package-check-service.sh); then
# reinstalls over an edited configuration and purges.
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
for t in dpkg-buildpackage dh lintian debootstrap systemd-analyze; do
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
grep -v 'running with root privileges' "$work/lintian.log" | sed 's/^/      lintian: /'
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
echo "package-check: installing $deb $([ -n "$root" ] && echo "into $root" || echo "on this machine")"
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
	/usr/share/doc/pinhole/examples/low-port.conf /usr/share/doc/pinhole/examples/winbind.conf \
	/usr/share/doc/pinhole/examples/haproxy.cfg /usr/share/doc/pinhole/examples/pinhole-instance.conf; do
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

# The service itself: the chroot boots with systemd in a container
# (systemd-nspawn, a network of its own, the tree read-only under a throw-away
# overlay) and contrib/package-check-service.sh checks pinhole.service there,
# sandbox and all.  A drop-in only shortens the start timeout, so that a
# daemon that never says READY=1 fails in 20 s.
boot_check() {
	units=$root/etc/systemd/system
	mkdir -p "$units/pinhole.service.d" "$units/multi-user.target.wants"
	printf '[Service]\nTimeoutStartSec=20\n' >"$units/pinhole.service.d/zz-check-timeout.conf"
	printf '%s\n' '[Unit]' 'After=pinhole.service' '[Service]' 'Type=oneshot' \
		'ExecStart=/bin/sh -c "/bin/sh /check/package-check-service.sh >/check/result 2>&1"' \
		'ExecStopPost=/bin/systemctl --no-block poweroff' '[Install]' 'WantedBy=multi-user.target' \
		>"$units/pinhole-check.service"
	ln -sf /etc/systemd/system/pinhole-check.service "$units/multi-user.target.wants/"
	rm -rf "$work/boot"
	mkdir -p "$work/boot"
	cp contrib/package-check-service.sh "$work/boot/"
	echo "package-check: booting the chroot in systemd-nspawn (log: $work/boot.log)"
	timeout 300 systemd-nspawn -D "$root" --volatile=overlay --bind="$work/boot:/check" --private-network \
		--register=no --keep-unit --quiet -b >"$work/boot.log" 2>&1
	rm -rf "$units/pinhole.service.d" "$units/pinhole-check.service" \
		"$units/multi-user.target.wants/pinhole-check.service"
	if [ ! -s "$work/boot/result" ]; then
		bad "the chroot boots in systemd-nspawn and runs the service check (see $work/boot.log)"
		return 0
	fi
	while read -r verdict what; do
		case "$verdict" in
		ok) ok "$what" ;;
		FAIL) bad "$what" ;;
		*) echo "      $verdict $what" ;;
		esac
	done <"$work/boot/result"
}
if [ -n "$root" ] && command -v systemd-nspawn >/dev/null 2>&1; then
	boot_check
elif [ -n "$root" ]; then
	echo "package-check: no systemd-nspawn (apt-get install systemd-container): the service is not started"
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
