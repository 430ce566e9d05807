#!/usr/bin/env bash
# Installs the Debian packages the build, tests and benchmark need, if any
# is missing. Needs root (or sudo) only when something must be installed.
set -eu
need=()
have_header() { [ -e "/usr/include/$1" ]; }
have_header Zydis/Zydis.h || need+=(libzydis-dev)
have_header libelf.h || need+=(libelf-dev)
# probekit probe / trace --probe: DWARF through libdw.
have_header elfutils/libdw.h || need+=(libdw-dev)
have_header zlib.h || need+=(zlib1g-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v g++ >/dev/null || need+=(g++)
command -v objcopy >/dev/null || need+=(binutils)
# The sanitizer runtimes come with gcc; clang's are for the fuzzers and TSan later.
[ -e /usr/lib/gcc/x86_64-linux-gnu/12/libasan.so ] || need+=(libgcc-12-dev)
# tests/test_attach_server.sh attaches to a real server under load.
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v python3 >/dev/null || need+=(python3)
# Issue 10's suites: programs as users run them (make, xargs, openssl's
# libcrypto, a Rust program built by the test), man pages and completion.
command -v make >/dev/null || need+=(make)
command -v xargs >/dev/null || need+=(findutils)
[ -x /usr/bin/rustc ] || need+=(rustc)
# tests/test_go.sh builds Go programs, with and without cgo.
command -v go >/dev/null || need+=(golang-go)
command -v man >/dev/null || need+=(man-db)
[ -e /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
# tests/test_probe.sh compares the definitions it derives with perf probe's.
command -v perf >/dev/null || need+=(linux-perf)
# tests/arch/x86_64/test_coverage.c measures jump-optimization coverage on these libraries.
have_lib() { [ -e "/usr/lib/x86_64-linux-gnu/$1" ] || [ -e "/lib/x86_64-linux-gnu/$1" ]; }
have_lib libz.so.1 || need+=(zlib1g)
have_lib libbz2.so.1.0 || need+=(libbz2-1.0)
have_lib libgmp.so.10 || need+=(libgmp10)
have_lib libcrypto.so.3 || need+=(libssl3)
have_lib libpython3.11.so.1.0 || need+=(libpython3.11)
# The kernel VM test (tests/kernel-vm): the emulator, a static shell for the
# guest and cpio for its initramfs. PK_SKIP_VM=1 skips that test and these.
if [ "${PK_SKIP_VM:-0}" != 1 ]; then
	command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
	command -v cpio >/dev/null || need+=(cpio)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		need+=(busybox-static)
fi
# make ARCH=aarch64 on another host: Debian's cross compilers, the arm64
# libraries through multiarch, and qemu-user to run what they build.
add_arch=
if [ "${ARCH:-$(uname -m)}" = aarch64 ] && [ "$(uname -m)" != aarch64 ]; then
	command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
	command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
	command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
	dpkg --print-foreign-architectures | grep -qx arm64 || add_arch=arm64
	[ -e /usr/lib/aarch64-linux-gnu/libelf.so ] || need+=(libelf-dev:arm64)
	[ -e /usr/lib/aarch64-linux-gnu/libz.so ] || need+=(zlib1g-dev:arm64)
	[ -e /usr/lib/aarch64-linux-gnu/libdw.so ] || need+=(libdw-dev:arm64)
fi
if [ "${PK_BENCH:-0}" = 1 ]; then
	command -v bpftrace >/dev/null || need+=(bpftrace)
	command -v uftrace >/dev/null || need+=(uftrace)
	# The real-program row runs Debian's interpreter, whatever python3 PATH finds first.
	[ -x /usr/bin/python3.11 ] || need+=(python3.11)
	# bench/scale.c: the one library here with 10,000 functions to probe.
	have_lib libLLVM-14.so.1 || need+=(libllvm14)
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "deps: installing ${need[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then SUDO=sudo; else
		echo "deps: missing ${need[*]}; run as root or install them" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
[ -z "$add_arch" ] || $SUDO dpkg --add-architecture "$add_arch"
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
