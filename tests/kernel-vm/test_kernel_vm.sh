#!/usr/bin/env bash
# The kernel side, for real: builds examples/kernel against Debian's kernel
# headers, boots that kernel under QEMU (TCG: no KVM needed) with an
# initramfs of busybox-static, the modules and build/probekit, and relays
# the guest's checks (tests/kernel-vm/init): the modules' output, and
# `probekit trace --kernel` on the kernel's kprobes.
#
# Downloads with `apt-get download` (nothing is installed) the newest
# linux-image-6.1.0-N-amd64 that apt knows and its headers, and keeps them
# in $BUILD/kernel-vm/cache for the next run. Needs qemu-system-x86_64,
# busybox-static, cpio and gcc-12 (scripts/deps.sh installs them).
#
# Prints "PASS name" / "FAIL name: why" per check; a check the VM never
# reported, or a VM that did not finish, is a FAIL. PK_SKIP_VM=1 skips it
# all (and says so); anything else that stops the test is a FAIL.
# PK_VM_KERNEL=6.1.0-N picks the kernel; PK_VM_TIMEOUT the VM's seconds.
set -u
cd "$(dirname "$0")/../.." || exit 1

# shellcheck source=tests/lib.sh
. tests/lib.sh

if [ "${PK_SKIP_VM:-0}" = 1 ]; then
	echo "SKIP kernel-vm: PK_SKIP_VM=1"
	exit 0
fi

BUILD=${BUILD:-build}
top=$(pwd)
work=$top/$BUILD/kernel-vm
cache=$work/cache
mkdir -p "$cache"
start=$SECONDS

# The checks the guest must report, in its order (tests/kernel-vm/init).
expected=(
	kprobe-load kprobe-listed kprobe-pre-post kprobe-unload kprobe-symbol-param
	exec-tracer exec-tracer-unload
	kretprobe-duration kretprobe-unload
	fault-inject-bad-param fault-inject-error fault-inject-comm-filter fault-inject-unload
	uprobe-module-nopie uprobe-module-pie uprobe-unload
	modules-all-unloaded
	pk-runs pk-kprobe-regs-string pk-profile pk-kretprobe-retval pk-args-ustring-retval pk-json
	pk-instance pk-sigterm pk-duration pk-bad-definition
	pk-uprobe-nopie pk-uretprobe-nopie pk-uprobe-pie pk-uretprobe-pie
	pk-hist-kernel pk-hist-user pk-hist-same pk-cleanup
)

# give_up WHY [FILE]: the setup failed; every check the VM would have made fails with it.
give_up() {
	fail kernel-vm-setup "$1"
	[ $# -gt 1 ] && [ -f "$2" ] && tail -15 "$2" | detail 15
	local c
	for c in "${expected[@]}"; do
		echo "FAIL $c: not run (setup failed)"
	done
	exit 1
}

for tool in qemu-system-x86_64 cpio gcc-12 apt-get apt-cache dpkg-deb ldd; do
	command -v "$tool" >/dev/null || give_up "$tool not found (scripts/deps.sh installs it)"
done
busybox=/bin/busybox
# The guest has no libraries but probekit's: its shell must be static.
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	give_up "$busybox is not busybox-static (scripts/deps.sh installs it)"
fi
probekit=$top/$BUILD/probekit
[ -x "$probekit" ] || give_up "$probekit not built (make lib)"

# --- Which kernel: the newest 6.1.0-N-amd64 with headers that apt knows.
newest_abi() {
	apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		awk '{ print $1 }' | sed 's/^linux-headers-//; s/-amd64$//' | sort -V | tail -1
}
apt_update() {
	[ "$(id -u)" -eq 0 ] && apt-get update -qq >"$work/apt-update.log" 2>&1
}
abi=${PK_VM_KERNEL:-$(newest_abi)}
if [ -z "$abi" ]; then
	apt_update
	abi=$(newest_abi)
fi
if [ -z "$abi" ]; then
	# No package lists to ask: a kernel downloaded before will do.
	abi=$(find "$cache" -mindepth 2 -maxdepth 2 -name .ready -printf '%h\n' 2>/dev/null |
		xargs -r -n1 basename | sort -V | tail -1)
fi
[ -n "$abi" ] || give_up "apt knows no linux-headers-6.1.0-N-amd64 and nothing is cached"
kc=$cache/$abi
root=$kc/root
kver=$abi-amd64

# --- Download and unpack, once per kernel.
download() {
	local ver
	ver=$(apt-cache show --no-all-versions "linux-image-$kver" 2>/dev/null |
		awk '/^Version:/ { print $2; exit }')
	if [ -z "$ver" ]; then
		echo "apt-cache knows no linux-image-$kver" >"$work/download.log"
		return 1
	fi
	# The kbuild package is shared by all 6.1 ABIs: pin it to the image's version.
	(cd "$kc/debs" && apt-get download "linux-image-$kver=$ver" "linux-headers-$kver=$ver" \
		"linux-headers-$abi-common=$ver" "linux-kbuild-6.1=$ver") >"$work/download.log" 2>&1
}
if [ ! -e "$kc/.ready" ]; then
	t0=$SECONDS
	rm -rf "$kc"
	mkdir -p "$kc/debs" "$root"
	# Package lists older than the mirror name files that are gone: refresh once.
	if ! download && ! { apt_update && download; }; then
		rm -rf "$kc"
		give_up "apt-get download of linux-image-$kver and its headers failed" "$work/download.log"
	fi
	for deb in "$kc"/debs/linux-headers-*.deb "$kc"/debs/linux-kbuild-*.deb; do
		dpkg-deb -x "$deb" "$root" || give_up "dpkg-deb -x $deb failed"
	done
	# Of the image, only the kernel itself: its modules are not needed.
	dpkg-deb --fsys-tarfile "$kc"/debs/linux-image-*.deb |
		tar -x -C "$root" --wildcards './boot/vmlinuz-*' ./boot/config-"$kver" ||
		give_up "could not unpack the kernel from linux-image-$kver"
	rm -rf "$kc/debs"
	touch "$kc/.ready"
	# Other kernels' caches are stale now.
	find "$cache" -mindepth 1 -maxdepth 1 ! -name "$abi" -exec rm -rf {} +
	echo "kernel-vm: downloaded and unpacked $kver in $((SECONDS - t0)) s"
fi
kdir=$root/usr/src/linux-headers-$kver
vmlinuz=$root/boot/vmlinuz-$kver
# Debian's headers include their common part by absolute path: point it into the cache.
sed -i "s|^include .*/usr/src/linux-headers-|include $root/usr/src/linux-headers-|" "$kdir/Makefile"

# --- The modules, built out of the source tree so that it stays clean.
mod=$work/modules
rm -rf "$mod"
mkdir -p "$mod"
cp examples/kernel/*.c examples/kernel/Kbuild "$mod/"
t0=$SECONDS
if make -j"$(nproc)" -C "$kdir" M="$mod" modules >"$work/modules.log" 2>&1; then
	pass kernel-modules-build
else
	fail kernel-modules-build "Kbuild against $kver failed"
	grep -E 'error|warning' "$work/modules.log" | detail 15
fi
# Warnings in the modules are errors, as in the rest of the project.
if grep -E '^[^ ]*\.c:[0-9]+:[0-9]+: warning' "$work/modules.log" >/dev/null; then
	fail kernel-modules-warnings "the compiler warned"
	grep -E 'warning' "$work/modules.log" | detail 15
else
	pass kernel-modules-warnings
fi
build_s=$((SECONDS - t0))

# --- The seed's callee program, without and with PIE, and callee's file offset in
# each, found by probekit as uprobe_register() and uprobe_events take it.
cdir=$work/callee
rm -rf "$cdir"
mkdir -p "$cdir"
: >"$cdir/offsets"
for kind in nopie pie; do
	flags=
	[ $kind = nopie ] && flags="-no-pie -fno-pic"
	# shellcheck disable=SC2086
	if ! gcc -O0 -g $flags -o "$cdir/callee-$kind" tests/kernel-vm/callee.c >"$work/callee.log" 2>&1; then
		fail callee-build "gcc $flags tests/kernel-vm/callee.c failed"
		detail 5 <"$work/callee.log"
		continue
	fi
	off=$("$probekit" list -o -x "$cdir/callee-$kind" callee 2>"$work/callee.log" |
		awk '$1 == "callee" { print $2 }')
	if [ -n "$off" ]; then
		echo "$kind $off" >>"$cdir/offsets"
	else
		fail callee-offset "probekit list -o -x callee-$kind printed no offset for callee"
		detail 5 <"$work/callee.log"
	fi
done
[ "$(wc -l <"$cdir/offsets")" = 2 ] && pass callee-build-and-offsets

# --- The initramfs: busybox, the init script, the modules, probekit and what it links.
ir=$work/initramfs
rm -rf "$ir"
mkdir -p "$ir"/{bin,dev,proc,sys,tmp,modules,etc}
cp "$busybox" "$ir/bin/busybox"
cp tests/kernel-vm/init "$ir/init"
chmod 755 "$ir/init"
cp "$mod"/*.ko "$ir/modules/" 2>/dev/null
mkdir -p "$ir/callee"
cp "$cdir"/callee-* "$cdir/offsets" "$ir/callee/" 2>/dev/null
cp "$probekit" "$ir/bin/probekit"
# The user-space tracer's agent (found next to the command) and the hist
# triggers' program, to compare probekit's hist files with the kernel's.
agent=$top/$BUILD/libprobekit-agent.so
htarget=$top/$BUILD/tests/helpers/hist_target
[ -f "$agent" ] && [ -x "$htarget" ] || give_up "$agent or $htarget not built (make)"
cp "$agent" "$ir/bin/"
mkdir -p "$ir/hist"
cp "$htarget" tests/kernel-vm/hist.defs "$ir/hist/"
# Each library at the path the loader will look for it, and the loader itself.
ldd "$probekit" "$agent" "$htarget" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u >"$work/libs"
while read -r lib; do
	mkdir -p "$ir$(dirname "$lib")"
	cp -L "$lib" "$ir$lib" || give_up "cannot copy $lib for probekit"
done <"$work/libs"
(cd "$ir" && find . | cpio -o -H newc -R 0:0 --quiet) >"$work/initramfs.cpio" ||
	give_up "cpio failed"

# --- Boot. The serial console is the only device: the guest needs no driver
# module, and everything it prints lands in console.log.
console=$work/console.log
rm -f "$console"
t0=$SECONDS
# -cpu max: the user-space tracer's agent uses what the host's CPU has (AVX:
# its return trampoline saves vector state), which TCG's default qemu64 lacks.
timeout "${PK_VM_TIMEOUT:-150}" qemu-system-x86_64 -accel tcg -cpu max -m 512 -nodefaults \
	-display none -monitor none -serial "file:$console" -no-reboot \
	-kernel "$vmlinuz" -initrd "$work/initramfs.cpio" \
	-append 'console=ttyS0 loglevel=3 panic=-1 rdinit=/init' >"$work/qemu.log" 2>&1
qrc=$?
vm_s=$((SECONDS - t0))
tr -d '\r' <"$console" >"$work/console.txt" 2>/dev/null

# --- Relay the guest's verdicts; what it never said is a failure.
sed -n '/^KVM-START$/,$p' "$work/console.txt" | grep -aE '^(PASS|FAIL) |^  '
for c in "${expected[@]}"; do
	grep -aEq "^(PASS|FAIL) $c(:|$)" "$work/console.txt" || fail "$c" "never reported by the VM"
done
if grep -aq '^KVM-DONE$' "$work/console.txt"; then
	pass kernel-vm-finished
else
	fail kernel-vm-finished "the VM did not finish (qemu exit $qrc after $vm_s s; console below)"
	tail -25 "$work/console.txt" | detail 25
	detail 5 <"$work/qemu.log"
fi
echo "kernel-vm: $kver, modules built in $build_s s, VM ran $vm_s s, $((SECONDS - start)) s in all"
grep -aq '^FAIL ' "$work/console.txt" && failed=1
exit $failed
