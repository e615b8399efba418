#!/bin/sh
# contrib/setup.sh run|check|bench|fuzz|package [configure options]
#
# On Debian 12 as root: installs what is missing (apt-get), runs autotools,
# builds pinhole out of tree (in $BUILD_DIR, default build/), then either
# runs it on its embedded default configuration (run) or runs the test
# suite (check) or the benchmark (bench).  fuzz builds the libFuzzer
# targets with clang (in $BUILD_DIR, default build-fuzz/) and runs each for
# $FUZZ_SECONDS (default 60).  package installs the packaging tools and runs
# contrib/package-check.sh (build the Debian package, install it into a
# chroot, check it).  Safe to run again: nothing already there is
# redone.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-}
[ $# -gt 0 ] && shift
if [ "$mode" = fuzz ]; then
	BUILD_DIR=${BUILD_DIR:-build-fuzz}
else
	BUILD_DIR=${BUILD_DIR:-build}
fi

build_pkgs="build-essential autoconf automake pkg-config libssl-dev libc-ares-dev
	libmicrohttpd-dev libkrb5-dev libntlm0-dev libcrypt-dev libcurl4-openssl-dev libjansson-dev"
# Real clients and servers the tests drive: curl, Python, haproxy (PROXY
# protocol v2), dnsmasq (DNS), Apache's htpasswd/htdigest, mkpasswd, an MIT
# Kerberos KDC and client, cntlm (NTLM client), promtool, Chromium, and
# Squid for its auth helpers.  Squid comes as squid-openssl, the build with
# ssl_bump the TLS benchmark compares against (same helpers).  The browser
# suite (make check-browser) adds Firefox ESR, coturn (TURN over TCP) and
# certutil (NSS databases that trust pinhole's CA); Node.js and npm are
# installed from Debian only when the machine has no node/npm of its own.
test_pkgs="curl openssl python3 python3-websockets python3-requests haproxy dnsmasq-base
	apache2-utils whois krb5-kdc krb5-admin-server krb5-user cntlm prometheus chromium squid-openssl
	firefox-esr coturn libnss3-tools"
# The fuzz targets: clang with its libFuzzer and sanitizer runtimes.
fuzz_pkgs="clang libclang-rt-14-dev"
# The benchmark: Squid (with ssl_bump) and tinyproxy side by side, htpasswd
# and a Kerberos realm for the auth suite, curl for the scale suite's look at
# /metrics, perf for --profile.
bench_pkgs="squid-openssl tinyproxy apache2-utils krb5-kdc krb5-admin-server krb5-user curl linux-perf"
# The Debian package and its check (contrib/package-check.sh).
package_pkgs="debhelper dpkg-dev fakeroot lintian debootstrap systemd systemd-container git"
# Packages above that ship a daemon: it must not start (cntlm and squid
# would take port 3128 from pinhole); the tests run their own instances.
daemons="cntlm squid tinyproxy prometheus krb5-kdc krb5-admin-server coturn"

install_missing() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	apt-get update -qq
	# Debian's policy-rc.d convention: no service starts during this install.
	guard=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		guard=1
	fi
	status=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		status=$?
	[ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
	[ $status -eq 0 ] || exit $status
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		for d in $daemons; do
			case " $missing " in *" $d "*) systemctl disable --now "$d" >/dev/null 2>&1 || true ;; esac
		done
	fi
}

# The browser suite's npm packages (playwright-core, puppeteer-core, pinned
# in tests/browser/package-lock.json), installed with `npm ci` when missing
# or older than the lock file.  They never download a browser: the suite
# drives Debian's chromium and firefox-esr.
browser_npm() {
	node_pkgs=""
	command -v node >/dev/null 2>&1 || node_pkgs="nodejs"
	command -v npm >/dev/null 2>&1 || node_pkgs="$node_pkgs npm"
	[ -z "$node_pkgs" ] || install_missing $node_pkgs
	stamp=tests/browser/node_modules/.package-lock.json
	if [ ! -f "$stamp" ] || [ tests/browser/package-lock.json -nt "$stamp" ]; then
		echo "setup: npm ci in tests/browser"
		# Without them the browser scenarios skip; the rest of the suite
		# does not need them.
		(cd tests/browser && PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROME_DOWNLOAD=1 \
			PUPPETEER_SKIP_CHROME_HEADLESS_SHELL_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
			npm ci --no-audit --no-fund --loglevel=error) ||
			echo "setup: npm ci in tests/browser failed; make check-browser will skip" >&2
	fi
}

build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ] ||
	   [ tests/scenarios.am -nt configure ]; then
		autoreconf -fi
	fi
	mkdir -p "$BUILD_DIR"
	cd "$BUILD_DIR"
	stamp="configured-with: $*"
	if [ ! -f Makefile ] || [ "$(cat .setup-stamp 2>/dev/null)" != "$stamp" ]; then
		"$top/configure" "$@"
		echo "$stamp" > .setup-stamp
	fi
	make -j"$(nproc)"
}

case "$mode" in
run)
	install_missing $build_pkgs
	(build "$@")
	echo "setup: starting pinhole on 127.0.0.1:3128 (Ctrl-C stops it)"
	exec "$BUILD_DIR/src/pinhole" run
	;;
check)
	install_missing $build_pkgs $test_pkgs $fuzz_pkgs
	browser_npm
	(build "$@")
	cd "$BUILD_DIR"
	exec make -j2 check
	;;
fuzz)
	install_missing $build_pkgs $fuzz_pkgs
	(build CC=clang --enable-fuzzing "$@")
	cd "$BUILD_DIR"
	exec make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
	;;
bench)
	install_missing $build_pkgs $bench_pkgs
	(build "$@")
	cd "$BUILD_DIR"
	exec make bench
	;;
package)
	install_missing $build_pkgs $package_pkgs
	exec sh contrib/package-check.sh "$@"
	;;
*)
	echo "usage: contrib/setup.sh run|check|bench|fuzz|package [configure options]" >&2
	exit 2
	;;
esac
