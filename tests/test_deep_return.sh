#!/bin/bash
# Issue 10 item 12: with the default maxactive no return is missed up to a
# depth of at least 1,024 per thread (fib(1000) under r: misses none; 4
# threads 1,024 deep at once); an explicit rN: keeps the kernel's meaning.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
D=$(realpath "$B/tests/helpers/deep_recursion")

"$PK" trace -o "$tmp/o" 'r:f fib ret=$retval:u64' -- "$D" 1000 >"$tmp/out" 2>"$tmp/err"
rc=$?
n=$(wc -l <"$tmp/o")
if [ $rc = 0 ] && [ "$n" = 1000 ] && grep -qE '^probekit/f +1000 +0 +0 +0$' "$tmp/err"
then pass fib1000_no_missed_return
else fail fib1000_no_missed_return "rc=$rc, $n return events: $(tail -1 "$tmp/err")"; fi

"$PK" trace -o "$tmp/o" 'r:f fib' -- "$D" 1024 4 >"$tmp/out" 2>"$tmp/err"
rc=$?
n=$(wc -l <"$tmp/o")
if [ $rc = 0 ] && [ "$n" = 4096 ] && grep -qE '^probekit/f +4096 +0 +0 +0$' "$tmp/err"
then pass four_threads_1024_deep
else fail four_threads_1024_deep "rc=$rc, $n return events: $(tail -1 "$tmp/err")"; fi

# The kernel's meaning of r10: at most 10 calls tracked at once, the rest missed.
"$PK" trace -o "$tmp/o" 'r10:f fib' -- "$D" 100 >"$tmp/out" 2>"$tmp/err"
n=$(wc -l <"$tmp/o")
if [ "$n" = 10 ] && grep -qE "^probekit/f +10 +90 +0 +0$" "$tmp/err"
then pass explicit_maxactive_kept
else fail explicit_maxactive_kept "$n return events: $(tail -1 "$tmp/err")"; fi
exit $failed
