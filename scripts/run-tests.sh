#!/usr/bin/env bash
# Runs every suite: the test binaries of the plain and the sanitizer builds
# (ASan+UBSan for all, ThreadSanitizer for the stress tests), the plain ones
# again with jump optimization off (PK_OPTIMIZE=0),
# and the shell tests (examples, install, pkg-config; tests/*/test_*.sh are
# the ones with a directory of their own, like the kernel VM, and the
# architecture's own in tests/arch/$(uname -m)). Each prints one
# "PASS name" / "FAIL name" line per case; a binary that dies or exits
# non-zero without saying FAIL counts as one failure of its own.
# Prints the per-suite results and a last line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
logdir=build/test-logs
mkdir -p "$logdir"

run_suite() { # name command...
	local name=$1; shift
	local log="$logdir/${name//\//_}.log"
	local start=$SECONDS
	timeout 600 "$@" >"$log" 2>&1
	local rc=$?
	local p f
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL $name (exit $rc)" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-40s %4d passed %3d failed  %3ds\n' "$name" "$p" "$f" $((SECONDS - start))
	if [ "$f" -ne 0 ]; then
		failures+=("$name")
		grep -E '^FAIL |^  ' "$log" | head -20 | sed 's/^/    /'
		tail -5 "$log" | sed 's/^/    | /'
	fi
}

for build in build build/asan build/tsan; do
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		case "$t" in *.d|*.o) continue ;; esac
		run_suite "${t#build/}" "$t"
	done
done
# The engine's suites again with jump optimization off: every probe an int3.
for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.d|*.o) continue ;; esac
	run_suite "int3/${t#build/tests/}" env PK_OPTIMIZE=0 "$t"
done
for t in tests/test_*.sh tests/*/test_*.sh "tests/arch/$(uname -m)"/test_*.sh; do
	[ -f "$t" ] || continue
	run_suite "$t" bash "$t"
done

if [ ${#failures[@]} -ne 0 ]; then
	echo "failed suites: ${failures[*]} (logs in $logdir)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
