#!/usr/bin/env bash
# probekit trace end to end: golden traces of a bundled program (times, ids
# and code offsets normalised), faults, a full ring, errors with carets,
# exit status. One PASS/FAIL line per check.
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
PK=$B/probekit
TGT=$B/tests/helpers/trace_target
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# The architecture's register names (PK_REG_ARG1...).
. "tests/arch/$(uname -m)/abi.sh"
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/  /' | head -30; fail=1; }

# COMM-TID [CPU] ..... SEC.USEC: -> fixed text; symbol sizes and call-site offsets
# depend on the compiler, the probe offset +0x0 does not.
normalise() {
	sed -E -e 's/^ *([^ ]+)-[0-9]+ +\[[0-9]+\] (.....) +[0-9]+\.[0-9]{6}:/\1-TID [CPU] \2 TIME:/' \
		-e 's/\+0x[0-9a-f]+\/0x[0-9a-f]+ <-/+OFF\/SIZE <-/' \
		-e 's/\+0x0\/0x[0-9a-f]+\)/+0x0\/SIZE)/'
}

# 1. The golden trace.
sed -e "s/%ARG1/$PK_REG_ARG1/g" -e "s/%ARG2/$PK_REG_ARG2/g" tests/golden/trace_target.defs >"$tmp/defs"
"$PK" trace -o "$tmp/out" -e "$tmp/defs" -- "$TGT" 3 >"$tmp/prog" 2>"$tmp/err"
rc=$?
normalise <"$tmp/out" >"$tmp/norm"
if [ $rc -eq 0 ] && diff -u tests/golden/trace_target.trace "$tmp/norm" >"$tmp/diff"; then
	pass golden_trace
else
	bad golden_trace "rc=$rc" "$(cat "$tmp/diff" "$tmp/err")"
fi
"$TGT" 3 >"$tmp/plain"
if cmp -s "$tmp/plain" "$tmp/prog"; then pass program_output_unchanged; else
	bad program_output_unchanged "$(diff "$tmp/plain" "$tmp/prog")"; fi
if grep -qE '^probekit/add +2 +0 +0 +0$' "$tmp/err" && grep -qE '^probekit/nameret +2 +0 +0 +0$' "$tmp/err"
then pass profile_counts; else bad profile_counts "$(cat "$tmp/err")"; fi

# 2. JSON: one object per event, the same fields.
"$PK" trace --format json 'p:add tt_add a=$arg1:s32 s=+0($arg1):string' -- "$TGT" >"$tmp/json" 2>/dev/null
if grep -c '^{"task":"trace_target",' "$tmp/json" | grep -qx 2 &&
	grep -q '"event":"add","probe":"tt_add+0x0/0x[0-9a-f]*","args":{"a":1,"s":null}}$' "$tmp/json"
then pass json_output; else bad json_output "$(cat "$tmp/json")"; fi

# 2b. The symbol type: %pS of the traced program's addresses, printed by the CLI.
"$PK" trace 'p:sy tt_add ret=$stack0:symbol' -- "$TGT" >"$tmp/sy" 2>/dev/null
if [ "$(grep -cE ': sy: \(tt_add\+0x0/0x[0-9a-f]+\) ret=main\+0x[0-9a-f]+/0x[0-9a-f]+$' "$tmp/sy")" = 2 ]
then pass symbol_type; else bad symbol_type "$(cat "$tmp/sy")"; fi

# 3. Bad and wild pointers print (fault); nothing crashes.
"$PK" trace 'p:w tt_add s=+0($arg1):string n=+0($arg1):u64 d=+8(+0($arg2)):string' \
	'p:z tt_name z=+0(+0($arg2)):s32' -- "$TGT" >"$tmp/f" 2>"$tmp/ferr"
rc=$?
if [ $rc -eq 0 ] && grep -c 's=(fault) n=0 d=(fault)' "$tmp/f" | grep -qx 2 &&
	grep -q 'z: .* z=0$' "$tmp/f"; then pass fault_reads; else bad fault_reads "rc=$rc" "$(cat "$tmp/f" "$tmp/ferr")"; fi

# 4. A full ring drops and counts; the program neither blocks nor changes.
N=300000
"$PK" trace --buffer-size 4 -o "$tmp/ring" 'p:l tt_loop i=$arg1:s32 s=\"padding-padding\":string' \
	-- "$TGT" $N >"$tmp/rprog" 2>"$tmp/rerr" &
pk=$!
for _ in $(seq 100); do [ -s "$tmp/ring" ] && break; sleep 0.05; done
kill -STOP $pk 2>/dev/null
sleep 1
kill -CONT $pk 2>/dev/null
wait $pk
rc=$?
lines=$(grep -c ': l: ' "$tmp/ring")
read -r hits lost < <(awk '$1=="probekit/l" {print $2, $4}' "$tmp/rerr")
"$TGT" $N >"$tmp/rplain"
if [ $rc -eq 0 ] && [ "${hits:-0}" -eq $N ] && [ "${lost:-0}" -gt 0 ] &&
	[ $((lines + lost)) -eq $N ] && cmp -s "$tmp/rplain" "$tmp/rprog"; then
	pass ring_full_drops_counted
else
	bad ring_full_drops_counted "rc=$rc hits=$hits lost=$lost printed=$lines" "$(cat "$tmp/rerr")"
fi

# 5. Errors: the kernel's message and a caret under the column at fault.
"$PK" trace 'p:e tt_add a=$arg1:u33' -- "$TGT" >/dev/null 2>"$tmp/e1"
rc=$?
cmdline='p:e tt_add a=$arg1:u33'
prefix=${cmdline%%u33}
caret="$(printf '%*s^' $((11 + ${#prefix})) '')"
if [ $rc -eq 2 ] && grep -q 'error: Unknown type is specified' "$tmp/e1" &&
	[ "$(sed -n 3p "$tmp/e1")" = "$caret" ]; then pass parse_error_caret; else
	bad parse_error_caret "rc=$rc" "$(cat -A "$tmp/e1")"; fi
"$PK" trace 'p:e no_such_function_here' -- "$TGT" >"$tmp/e2o" 2>"$tmp/e2"
rc=$?
if [ $rc -eq 1 ] && grep -q 'error: Invalid probed address or symbol' "$tmp/e2" &&
	! grep -q '^add' "$tmp/e2o"; then pass unknown_symbol_refused_before_main; else
	bad unknown_symbol_refused_before_main "rc=$rc" "$(cat "$tmp/e2" "$tmp/e2o")"; fi
"$PK" trace 'p:e tt_add' 'p:e tt_name' -- "$TGT" >/dev/null 2>"$tmp/e3"
if grep -q 'error: This event is already defined' "$tmp/e3" || grep -q 'already' "$tmp/e3"
then pass duplicate_event_refused; else bad duplicate_event_refused "$(cat "$tmp/e3")"; fi

# 6. The exit status is the program's.
"$PK" trace 'p:add tt_add' -- "$TGT" 0 7 >/dev/null 2>&1
rc=$?
if [ $rc -eq 7 ]; then pass exit_status; else bad exit_status "rc=$rc"; fi
"$PK" trace 'p:add tt_add' -- /nonexistent/program >/dev/null 2>"$tmp/e4"
rc=$?
if [ $rc -eq 127 ] && grep -q 'nonexistent' "$tmp/e4"; then pass missing_program; else
	bad missing_program "rc=$rc" "$(cat "$tmp/e4")"; fi
# 7. Deferred: armed when the program dlopens the object, disarmed at dlclose, armed again.
DL=$B/tests/helpers/dlopen_target
"$PK" trace 'p:cosp libm.so.6:cos' 'r:cosr libm:cos' -- "$DL" >"$tmp/dl" 2>"$tmp/dlerr"
rc=$?
"$DL" >"$tmp/dlplain"
if [ $rc -eq 0 ] && grep -q 'cosp waits for libm.so.6 to be loaded' "$tmp/dlerr" &&
	grep -qE '^probekit/cosp +5 +0 +0 +0$' "$tmp/dlerr" && grep -qE '^probekit/cosr +5 +0 +0 +0$' "$tmp/dlerr" &&
	[ "$(grep -c ': cosp: ' "$tmp/dl")" = 5 ] && [ "$(grep -v ': cos[pr]: ' "$tmp/dl")" = "$(cat "$tmp/dlplain")" ]
then pass deferred_dlopen_dlclose; else bad deferred_dlopen_dlclose "rc=$rc" "$(cat "$tmp/dl" "$tmp/dlerr")"; fi

# 8. Filters: ftrace's language on the event's fields; the others are counted as filtered.
"$PK" trace -o "$tmp/fl" --filter 'add: a > 0 && c == 3' --filter 'name: n ~ "prob*" || common_pid == 1' \
	--filter 'loop: !(i & 1) && i >= 4 && comm == "trace_target"' \
	'p:add tt_add a=$arg1:s32 b=$arg2:s32 c=$arg3:s32' 'p:name tt_name n=+0($arg1):string' \
	'p:loop tt_loop i=$arg1:u32' -- "$TGT" 10 >/dev/null 2>"$tmp/flerr"
got=$(sed -E 's/^.*: ([a-z]+): \([^)]*\)/\1/' "$tmp/fl" | tr '\n' ';')
if [ "$got" = 'add a=1 b=2 c=3;name n="probekit";loop i=4;loop i=6;loop i=8;' ] &&
	grep -qE '^probekit/loop +10 +0 +0 +7$' "$tmp/flerr"; then pass filters; else
	bad filters "$got" "$(cat "$tmp/flerr")"; fi
"$PK" trace --filter 'add: zz > 1' 'p:add tt_add a=$arg1:s32' -- "$TGT" >/dev/null 2>"$tmp/fe"
rc=$?
if [ $rc -eq 2 ] && grep -q 'filter error: Field not found' "$tmp/fe" &&
	[ "$(sed -n 3p "$tmp/fe")" = "          ^" ]; then pass filter_error_caret; else
	bad filter_error_caret "rc=$rc" "$(cat -A "$tmp/fe")"; fi

# 9. Ctrl-C (SIGINT to the tracer alone) and -d: the program is ended, events kept, profile printed.
"$PK" trace -o "$tmp/int" 'p:l tt_loop i=$arg1:s32' -- "$TGT" -1 >/dev/null 2>"$tmp/interr" &
pk=$!
for _ in $(seq 100); do [ -s "$tmp/int" ] && break; sleep 0.05; done
kill -INT $pk
wait $pk
rc=$?
if [ $rc -eq 130 ] && grep -q ': l: ' "$tmp/int" && grep -q '^probekit/l ' "$tmp/interr"; then
	pass ctrl_c; else bad ctrl_c "rc=$rc" "$(cat "$tmp/interr")"; fi
start=$SECONDS
"$PK" trace -d 0.5 -o "$tmp/dur" 'p:l tt_loop i=$arg1:s32' -- "$TGT" -1 >/dev/null 2>"$tmp/durerr"
rc=$?
if [ $rc -eq 143 ] && [ $((SECONDS - start)) -lt 5 ] && grep -q ': l: ' "$tmp/dur"; then
	pass duration; else bad duration "rc=$rc" "$(cat "$tmp/durerr")"; fi

# 9a. Threads and fork: every thread's events, each under its own id; a forked child traces too.
MT=$B/tests/helpers/mt_target
"$PK" trace -o "$tmp/mt" 'p:w mt_work t=$arg1:s32 i=$arg2:s32' -- "$MT" >"$tmp/mtout" 2>"$tmp/mterr"
rc=$?
tids=$(awk '{print $1}' "$tmp/mt" | sort -u | wc -l)
if [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/mt")" = 4100 ] && [ "$tids" = 5 ] &&
	[ "$(grep -c ' t=99 ' "$tmp/mt")" = 100 ] && grep -qE '^probekit/w +4100 +0 +0 +0$' "$tmp/mterr" &&
	[ "$(cat "$tmp/mtout")" = "$("$MT")" ]; then pass threads_and_fork; else
	bad threads_and_fork "rc=$rc tids=$tids lines=$(wc -l <"$tmp/mt")" "$(cat "$tmp/mterr")"; fi

# 9b. A static program: said plainly, before anything runs.
printf 'int main(void) { return 0; }\n' >"$tmp/st.c"
if cc -static -o "$tmp/st" "$tmp/st.c" 2>/dev/null; then
	"$PK" trace 'p:x main' -- "$tmp/st" >/dev/null 2>"$tmp/sterr"
	rc=$?
	if [ $rc -eq 2 ] && grep -q 'is statically linked' "$tmp/sterr"; then pass static_program_refused
	else bad static_program_refused "rc=$rc" "$(cat "$tmp/sterr")"; fi
fi

# 10. probekit list: what can be probed, and why not.
out=$("$PK" list 'tt_*' -- "$TGT" 2>&1)
if [ "$(printf '%s\n' "$out" | sort | tr '\n' ' ')" = "tt_add tt_loop tt_many tt_name " ]; then
	pass list_program; else bad list_program "$out"; fi
out=$("$PK" list -x "/usr/lib/$PK_MULTIARCH/libz.so.1" 'inflate' 2>&1)
if [ "$out" = "inflate [libz.so.1]" ]; then pass list_library; else bad list_library "$out"; fi
out=$("$PK" list 'pthread_setspecific' -- true 2>&1)
if grep -q '^pthread_setspecific \[libc.so.6\]	# blacklisted' <<<"$out"; then
	pass list_marks_blacklisted; else bad list_marks_blacklisted "$out"; fi
exit $fail
