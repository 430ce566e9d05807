#!/usr/bin/env bash
# make install into a staging root, then build a program with nothing but
# pkg-config's flags for probekit, against the shared and the static library.
set -u
cd "$(dirname "$0")/.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
fail=0
check() { # name command...
	local name=$1; shift
	if "$@" >"$stage/out" 2>&1; then echo "PASS $name"; else
		echo "FAIL $name"; sed 's/^/  /' "$stage/out" | tail -15; fail=1; fi
}
check install make -s install DESTDIR="$stage" PREFIX=/usr
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$stage/usr/lib/pkgconfig
check pc-exists test -f "$stage/usr/lib/pkgconfig/probekit.pc"
check header-installed test -f "$stage/usr/include/probekit.h"
check exports-only-pk sh -c "! nm -D --defined-only '$stage/usr/lib/libprobekit.so' | awk '\$2 ~ /[TDBW]/ {print \$3}' | grep -v '^pk_'"
check build-shared sh -c "cc -Wall -Werror -o '$stage/consumer' tests/install/consumer.c \
	\$(pkg-config --cflags --libs probekit) -lz -Wl,-rpath,'$stage/usr/lib'"
check run-shared "$stage/consumer"
check build-static sh -c "cc -Wall -Werror -o '$stage/consumer-static' tests/install/consumer.c \
	\$(pkg-config --cflags probekit) '$stage/usr/lib/libprobekit.a' \
	\$(pkg-config --libs-only-other --static probekit) \$(pkg-config --static --libs probekit | sed 's/-lprobekit//') -lz"
check run-static "$stage/consumer-static"
exit $fail
