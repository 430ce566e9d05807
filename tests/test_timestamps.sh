#!/bin/bash
# Record timestamps: the agent stamps records with the cycle counter where
# the kernel's clocksource is the TSC, and the tracer prints them as
# CLOCK_MONOTONIC seconds, as the kernel's trace does. Checked against the
# clock itself (read before and after the run) and against a sleep of known
# length inside /bin/sleep (entry to return of clock_nanosleep).
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

mono() { python3 -c 'import time; print("%.6f" % time.monotonic())'; }
before=$(mono)
"$PK" trace -o "$tmp/o" 'p:s libc.so.6:clock_nanosleep' 'r:e libc.so.6:clock_nanosleep' \
	-- sleep 0.3 >"$tmp/out" 2>"$tmp/err"
rc=$?
after=$(mono)
ts() { grep ": $1: " "$tmp/o" | head -1 | sed -E 's/.* ([0-9]+\.[0-9]{6}): .*/\1/'; }
s=$(ts s)
e=$(ts e)
if [ $rc = 0 ] && [ -n "$s" ] && [ -n "$e" ] &&
	awk -v b="$before" -v a="$after" -v s="$s" -v e="$e" \
		'BEGIN { d = e - s; exit !(b <= s && s <= e && e <= a && d >= 0.3 && d < 0.35) }'
then pass "timestamps_monotonic_clock (sleep 0.3 measured $(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.6f", e - s }') s)"
else fail timestamps_monotonic_clock "rc=$rc before=$before s=$s e=$e after=$after $(cat "$tmp/err")"; fi

# Many events of one thread: never out of order.
"$PK" trace -o "$tmp/o2" "p:add $TGT:tt_loop" -- "$TGT" 5000 >/dev/null 2>&1
if [ "$(wc -l <"$tmp/o2")" -ge 5000 ] &&
	sed -E 's/.* ([0-9]+\.[0-9]{6}): .*/\1/' "$tmp/o2" | sort -c -n; then
	pass timestamps_in_order
else fail timestamps_in_order "$(wc -l <"$tmp/o2") events"; fi
exit $failed
