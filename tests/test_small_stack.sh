#!/bin/bash
# Issue 10 item 11: probes on functions that run on an 8 KiB makecontext
# stack (uftrace's s-ucontext): entry and return probes through the tracer,
# jump-optimized and int3, change nothing of the program's output. The
# bytes each path puts on the program's stack are measured by test_stack_use.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
S=$(realpath "$B/tests/helpers/small_stack")
# The function leaves about 450 bytes of the 8 KiB free (3.5 KiB with
# int3, whose kernel signal frame alone is about 3 KiB with AVX-512 state).
for mode in "" --no-optimize; do
	name=${mode:-optimized}
	frame=7600
	[ -n "$mode" ] && frame=4500
	want=$("$S" 200 $frame)
	"$PK" trace $mode -o "$tmp/o" 'p:w co_work a=$arg1:s64' 'r:wr co_work ret=$retval:s64' \
		'r:lr co_leaf ret=$retval:s64' -- "$S" 200 $frame >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = 0 ] && [ "$(cat "$tmp/out")" = "$want" ] &&
		[ "$(grep -c ': w: ' "$tmp/o")" = 201 ] && [ "$(grep -c ': wr: ' "$tmp/o")" = 201 ] &&
		[ "$(grep -c ': lr: ' "$tmp/o")" = 201 ]
	then pass "small_stack_return_probes_${name#--}"
	else fail "small_stack_return_probes_${name#--}" "rc=$rc out=$(cat "$tmp/out") want=$want $(tail -3 "$tmp/err")"; fi
done
exit $failed
