# Shared by the shell suites: one "PASS name" / "FAIL name: why" line per
# check, a scratch directory removed on exit, and $failed for the exit status.
# Sourced from the repository's top directory.
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failed=1
}
detail() { sed 's/^/  /' | head -"${1:-12}"; }

# The architecture's names the suites need (PK_REG_ARG1...).
. "tests/arch/$(uname -m)/abi.sh"

# file_offset FILE SYM: where SYM's first byte is in FILE (what uprobe_events
# takes as PATH:OFFSET): its address less its segment's address, plus the
# segment's file offset. From nm and readelf, independently of probekit.
file_offset() {
	local va t off vaddr fsz
	va=$((16#$(nm "$1" | awk -v s="$2" '$3==s {print $1; exit}')))
	while read -r t off vaddr _ fsz _; do
		[ "$t" = LOAD ] || continue
		if [ "$va" -ge $((vaddr)) ] && [ "$va" -lt $((vaddr + fsz)) ]; then
			printf '0x%x\n' $((va - vaddr + off))
			return
		fi
	done < <(readelf -lW "$1")
}

# Suites of the kernel's uprobes: the tracer, the bundled program and tracefs
# (mounted if it is not). uprobes_or_skip WHAT exits with a SKIP line (no
# PASS) where uprobe_events cannot be written.
B=${BUILD:-build}
PK=$(realpath "$B/probekit")
TGT=$(realpath "$B/tests/helpers/trace_target")
TR=/sys/kernel/tracing
uprobes_or_skip() {
	[ -e $TR/uprobe_events ] || mount -t tracefs nodev $TR 2>/dev/null
	if [ ! -w $TR/uprobe_events ]; then
		echo "SKIP $1: no writable $TR/uprobe_events (tracefs uprobes missing or not root)"
		exit 0
	fi
}
