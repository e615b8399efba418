#!/bin/sh
# contrib/setup.sh run|check [configure options]
#
# On Debian 12 as root: installs what is missing (apt-get), runs autotools,
# builds pinhole out of tree (in $BUILD_DIR, default build/), then either
# runs it on its embedded default configuration (run) or runs the test
# suite (check).  Safe to run again: nothing already there is redone.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-}
[ $# -gt 0 ] && shift
BUILD_DIR=${BUILD_DIR:-build}

build_pkgs="build-essential autoconf automake pkg-config libssl-dev libc-ares-dev
	libmicrohttpd-dev libkrb5-dev libntlm0-dev libcrypt-dev"
test_pkgs="curl openssl python3 python3-websockets haproxy dnsmasq-base"

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
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
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
	install_missing $build_pkgs $test_pkgs
	(build "$@")
	cd "$BUILD_DIR"
	exec make -j2 check
	;;
*)
	echo "usage: contrib/setup.sh run|check [configure options]" >&2
	exit 2
	;;
esac
