#!/usr/bin/env bash
# probekit trace --trigger: the kernel's hist triggers on user-space events.
# Golden hist files of a bundled program whose calls are known (every key,
# value and modifier), variables, expressions and synthetic events making a
# latency histogram of a function whose sleep the test sets, errors with the
# error_log's words and caret, SIGUSR1 printing the histograms so far.
set -u
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh
. tests/lib.sh
HT=$B/tests/helpers/hist_target
LOOP=$B/tests/helpers/trace_target

# Process ids and addresses change from run to run; the symbol does not.
normalise() {
	sed -E -e 's/\[[0-9a-f]+\] main +,/[ADDR] main,/' \
		-e 's/\[[0-9a-f]+\] main\+0x[0-9a-f]+\/0x[0-9a-f]+ +\}/[ADDR] main+OFF\/SIZE }/' \
		-e 's/\[ *[0-9]+\]/[PID]/g'
}

# 1. Golden: definitions and trigger lines from one -e file.
"$PK" trace -o "$tmp/out" -e tests/golden/hist_target.defs -- "$HT" >"$tmp/prog" 2>"$tmp/err"
rc=$?
normalise <"$tmp/out" >"$tmp/norm"
if [ $rc -eq 0 ] && diff -u tests/golden/hist_target.hist "$tmp/norm" >"$tmp/diff"; then
	pass golden_hist
else
	fail golden_hist "rc=$rc"
	cat "$tmp/diff" "$tmp/err" | detail 30
fi
# Aggregated events are not printed as lines, but still counted.
if grep -qE '^probekit/alloc +100 +0 +0 +0$' "$tmp/err" && ! grep -q 'alloc:' "$tmp/out"; then
	pass hist_events_counted_not_printed
else
	fail hist_events_counted_not_printed "$(cat "$tmp/err")"
fi
if grep -q '^hist_target ' "$tmp/prog"; then pass hist_program_output; else
	fail hist_program_output "$(cat "$tmp/prog")"; fi

# 2. Latency: entry to return of the same thread, through a variable, an
# expression, onmatch() and a synthetic event, into .log2 buckets. Each
# sleep starts its bucket, so that a late wake-up has room: 1100 us in
# 2^11 (1024-2048], 4500 in 2^13 (4096-8192], 17000 in 2^15.
lat() {
	"$PK" trace 'p:fin ht_sleep us=$arg1:s64' 'r:fout ht_sleep' \
		--synthetic 'lat u64 lat_us; pid_t pid; s64 us' \
		--trigger 'fin: hist:keys=common_pid:ts0=common_timestamp.usecs,req=us' \
		--trigger 'fout: hist:keys=common_pid:lat=common_timestamp.usecs-$ts0:onmatch(probekit.fin).trace(lat,$lat,common_pid,$req)' \
		--trigger 'lat: hist:keys=lat_us.log2:vals=hitcount,us:sort=lat_us' \
		--trigger 'lat: hist:keys=us:vals=lat_us:mx=lat_us:onmax($mx).save(lat_us,us):sort=us' \
		-- "$HT" 1100 1100 4500 17000 >"$tmp/lat" 2>"$tmp/laterr"
}
buckets() {
	sed -n '/synthetic\/lat/,$p' "$tmp/lat" | grep -E '^\{ lat_us: ~ 2\^' |
		sed -E 's/^\{ lat_us: ~ 2\^([0-9]+) *\} hitcount: +([0-9]+) +us: +([0-9]+)$/\1 \2 \3/' | tr '\n' ' '
}
# A loaded machine can stretch a sleep past its bucket: two more tries then.
want="11 2 2200 13 1 4500 15 1 17000 "
for try in 1 2 3; do
	lat
	got=$(buckets)
	[ "$got" = "$want" ] && break
done
if [ "$got" = "$want" ]; then
	pass latency_log2_buckets
else
	fail latency_log2_buckets "buckets (log2 hits us-sum): '$got'"
	detail 40 <"$tmp/lat"
	detail 5 <"$tmp/laterr"
fi
# onmax($mx).save(): each sleep's longest latency, at least the sleep itself.
ok=1
for us in 1100 4500 17000; do
	max=$(grep -A1 -E "^\{ us: +$us \}" "$tmp/lat" | sed -nE 's/^\tmax: +([0-9]+) +lat_us: +([0-9]+) +us: +([0-9]+)$/\1 \2 \3/p')
	set -- $max
	[ $# -eq 3 ] && [ "$1" -ge "$us" ] && [ "$1" -lt $((us + 20000)) ] && [ "$1" = "$2" ] &&
		[ "$3" = "$us" ] || ok=0
done
if [ $ok = 1 ]; then pass onmax_save; else
	fail onmax_save "no 'max: N lat_us: N us: $us' line under { us: $us }"
	detail 40 <"$tmp/lat"
fi
if grep -qF 'trigger info: hist:keys=common_pid:vals=hitcount:lat=common_timestamp.usecs-$ts0:sort=hitcount:size=2048:clock=global:onmatch(probekit.fin).trace(lat,$lat,common_pid,$req) [active]' "$tmp/lat" &&
	grep -qF 'trigger info: hist:keys=common_pid:vals=hitcount:ts0=common_timestamp.usecs,req=us:sort=hitcount:size=2048:clock=global [active]' "$tmp/lat"; then
	pass trigger_info_variables_actions
else
	fail trigger_info_variables_actions "$(grep 'trigger info' "$tmp/lat")"
fi

# 3. A synthetic event without trigger is printed as the kernel prints one.
"$PK" trace 'p:fin ht_sleep us=$arg1:s64' 'r:fout ht_sleep' --synthetic 'wake s64 us' \
	--trigger 'fin: hist:keys=common_pid:u=us' \
	--trigger 'fout: hist:keys=common_pid:onmatch(probekit.fin).trace(wake,$u)' \
	-- "$HT" 7 9 >"$tmp/syn" 2>&1
if [ "$(grep -cE '^ +hist_target-[0-9]+ +\[[0-9]{3}\] \.\.\.\.\. +[0-9]+\.[0-9]{6}: wake: us=(7|9)$' "$tmp/syn")" = 2 ]; then
	pass synthetic_event_line
else
	fail synthetic_event_line "$(cat "$tmp/syn")"
fi

# 4. Errors: the error_log's message, and the caret under the culprit.
err_case() { # name trigger message caret-column
	"$PK" trace 'p:alloc ht_alloc size=$arg1:u64' --trigger "$2" -- "$HT" >/dev/null 2>"$tmp/e"
	local rc=$? caret
	caret=$(sed -n '3p' "$tmp/e")
	if [ $rc = 2 ] && grep -qF "hist:probekit:alloc: error: $3" "$tmp/e" &&
		[ "$caret" = "$(printf '%*s^' "$4" '')" ]; then
		pass "error_$1"
	else
		fail "error_$1" "rc=$rc"
		detail 6 <"$tmp/e"
	fi
}
err_case no_field 'alloc: hist:keys=sise' "Couldn't find field" 21
err_case bad_modifier 'alloc: hist:keys=size.lg2' "Invalid field modifier" 26
err_case no_variable 'alloc: hist:keys=size:x=size-$nope' "Couldn't find variable" 34
err_case sort_field 'alloc: hist:keys=size:sort=kind' "Sort field must be a key or a val" 31
err_case no_synthetic 'alloc: hist:keys=size:onmatch(probekit.alloc).trace(nosuch,$x)' "Couldn't find synthetic event" 56

# 5. SIGUSR1 prints the histograms so far, and the trace goes on.
"$PK" trace 'p:loop tt_loop i=$arg1:s32' --trigger 'loop: hist:keys=common_pid' -- "$LOOP" -1 >"$tmp/usr1" 2>/dev/null &
pid=$!
sleep 1.5
kill -USR1 $pid
sleep 0.5
n1=$(grep -c '^# event histogram' "$tmp/usr1")
kill -INT $pid
wait $pid
n2=$(grep -c '^# event histogram' "$tmp/usr1")
h1=$(grep -m1 'Hits:' "$tmp/usr1" | awk '{ print $2 }')
h2=$(grep 'Hits:' "$tmp/usr1" | tail -1 | awk '{ print $2 }')
if [ "$n1" = 1 ] && [ "$n2" = 2 ] && [ "${h1:-0}" -gt 0 ] && [ "${h2:-0}" -gt "${h1:-0}" ]; then
	pass sigusr1_prints_so_far
else
	fail sigusr1_prints_so_far "histograms after SIGUSR1: $n1, at the end: $n2, hits $h1 then $h2"
fi
exit $failed
