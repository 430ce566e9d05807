#!/usr/bin/env bash
# probekit trace --kernel and list --kernel on this host: kernel uprobes
# through tracefs (PATH:SYM and PATH:OFFSET, text and JSON), the same output
# as the user-space tracer's, the kernel's filters and error_log carets,
# cleanup on every way out (a SIGKILLed run cleaned up by the next), and the
# plain messages of a kernel without kprobes. Skips (with a message, no PASS)
# where tracefs is not writable.
set -u
cd "$(dirname "$0")/../../.."
. tests/lib.sh
G=pkhost$$
uprobes_or_skip "kernel backend"
trap 'for e in $(grep -o "^[pr]:$G/[^ ]*" $TR/uprobe_events 2>/dev/null | cut -d: -f2); do
	echo "-:$e" >>$TR/uprobe_events; done; rm -rf "$tmp"' EXIT

# pkrun OUT ERR ARGS...: probekit ARGS, its exit status in $rc and its pid in $pid.
pkrun() {
	local out=$1 err=$2
	shift 2
	bash -c 'echo $$ >"$0"; exec "$@"' "$tmp/pid" "$PK" "$@" >"$out" 2>"$err"
	rc=$?
	pid=$(cat "$tmp/pid")
}
# Nothing of run $1 left: no event of our group, no instance, no state file.
gone() {
	! cat $TR/uprobe_events $TR/kprobe_events 2>/dev/null | grep -q "^[pr][0-9]*:$G/" && [ ! -e "$TR/instances/probekit-$1" ] &&
		[ ! -e "/run/probekit/kernel-$1" ]
}
# COMM-TID [CPU] FLAGS TIME: EVENT: (ADDRESS PART) -> COMM FLAGS EVENT: ()
norm() {
	sed -E 's/^ *([^ ]+)-[0-9]+ +\[[0-9]+\] ([^ ]+) +[0-9]+\.[0-9]{6}: ([^ ]+): \([^)]*\)/\1 \2 \3: ()/' "$@"
}

# 1. PATH:SYM, text: the arguments, the command's exit status, the profile, cleanup.
pkrun "$tmp/o1.prog" "$tmp/e1" trace --kernel -o "$tmp/o1" \
	"p:$G/add $TGT:tt_add a=%di:s32 b=%si:s32 c=%dx:x32" "r:$G/addret $TGT:tt_add ret=%ax:s32" \
	-- "$TGT" 3 7
if [ $rc -eq 7 ] &&
	[ "$(grep -cE '^ +trace_target-[0-9]+ +\[[0-9]{3}\] \.\.\.\.\. +[0-9]+\.[0-9]{6}: add: \(0x[0-9a-f]+\) a=1 b=2 c=0x3$' "$tmp/o1")" = 1 ] &&
	grep -qE ': add: \(0x[0-9a-f]+\) a=-5 b=6 c=0x7$' "$tmp/o1" &&
	[ "$(grep -cE ': addret: \(0x[0-9a-f]+ <- 0x[0-9a-f]+\) ret=(7|37)$' "$tmp/o1")" = 2 ] &&
	[ "$(wc -l <"$tmp/o1")" = 4 ] &&
	grep -qE "^$G/add +2 +- +0 +0$" "$tmp/e1" && grep -qE "^$G/addret +2 +- +0 +0$" "$tmp/e1"
then pass uprobe_path_sym_text; else fail uprobe_path_sym_text "rc=$rc $(cat "$tmp/o1" "$tmp/e1")"; fi
if gone "$pid"; then pass cleanup_normal_exit; else
	fail cleanup_normal_exit "$(cat $TR/uprobe_events; ls $TR/instances /run/probekit)"; fi

# 2. PATH:OFFSET: the same events as PATH:SYM.
A=$(file_offset "$TGT" tt_add)
pkrun "$tmp/o2.prog" "$tmp/e2" trace --kernel -o "$tmp/o2" \
	"p:$G/add $TGT:$A a=%di:s32 b=%si:s32 c=%dx:x32" "r:$G/addret $TGT:$A ret=%ax:s32" -- "$TGT" 3
if [ $rc -eq 0 ] && [ -n "$A" ] && [ -s "$tmp/o2" ] && diff <(norm "$tmp/o1") <(norm "$tmp/o2") >"$tmp/d2" &&
	gone "$pid"; then pass uprobe_path_offset_text; else
	fail uprobe_path_offset_text "rc=$rc off=$A $(cat "$tmp/d2" "$tmp/e2")"; fi

# 3. JSON: the user-space tracer's object, the same arguments as it finds.
D3=("p:$G/name $TGT:tt_name n=+0(%di):string arr=+0(%si):s32[2] ch=+0(%di):char l=+0(+8(%si)):string x=%si:x64"
	"r:$G/nameret $TGT:tt_name len=%ax:u64")
pkrun "$tmp/o3.prog" "$tmp/e3" trace --kernel --format json -o "$tmp/o3" "${D3[@]}" -- "$TGT"
"$PK" trace --format json -o "$tmp/u3" "${D3[@]}" -- "$TGT" >/dev/null 2>&1
jnorm() { sed -E 's/"(pid|tid|cpu)":[0-9]+/"\1":N/g; s/"timestamp":[0-9]+\.[0-9]{6}/"timestamp":T/; s/"probe":"[^"]*"/"probe":P/; s/"x":[0-9]+/"x":X/' "$1"; }
if [ $rc -eq 0 ] && [ "$(wc -l <"$tmp/o3")" = 4 ] &&
	grep -qE "^\{\"task\":\"trace_target\",\"pid\":([0-9]+),\"tid\":\1,\"cpu\":[0-9]+,\"timestamp\":[0-9]+\.[0-9]{6},\"group\":\"$G\",\"event\":\"name\",\"probe\":\"0x[0-9a-f]+\",\"args\":\{\"n\":\"probekit\",\"arr\":\[3,-4\],\"ch\":\"p\",\"l\":\"origin\",\"x\":[0-9]+\}\}$" "$tmp/o3" &&
	grep -q '"args":{"n":"x","arr":\[0,0\],"ch":"x","l":null,"x":0}}$' "$tmp/o3" &&
	grep -qE '"probe":"0x[0-9a-f]+ <- 0x[0-9a-f]+","args":\{"len":11\}\}$' "$tmp/o3" &&
	diff <(jnorm "$tmp/u3") <(jnorm "$tmp/o3") >"$tmp/d3" && gone "$pid"
then pass uprobe_json_as_user_space; else
	fail uprobe_json_as_user_space "rc=$rc $(cat "$tmp/d3" "$tmp/o3" "$tmp/e3")"; fi

# 4. The acceptance item: the same definitions through the user-space tracer
# and the kernel print the same lines but for the timestamps, the CPU and
# the address part (and the thread id: two runs are two processes).
cat >"$tmp/defs4" <<DEFS
# every kind of field the two share
p:$G/add $TGT:tt_add a=%di:s32 b=%si:s32 c=%dx:x32 lo=%di:u8 wide=%si:s64 bf=%di:b4@0/32 h=%dx:x16 c2=\$comm
r:$G/addr $TGT:tt_add ret=%ax:s32 rx=%ax:x16 ru=%ax:u64
p:$G/name $TGT:tt_name n=+0(%di):string x=+0(%si):s32 y=+4(%si):u16 l=+0(+8(%si)):string arr=+0(%si):s32[2] ch=+0(%di):char b8=+1(%di):x8
r:$G/nameret $TGT:tt_name len=%ax:u64
p:$G/many $TGT:tt_many s1=\$stack1:s64 s2=\$stack2:u8 a1=%di:s16 r9=%r9:u32
p:$G/loop $TGT:tt_loop i=%di:s32
DEFS
"$PK" trace -e "$tmp/defs4" -o "$tmp/u4" -- "$TGT" 4 >/dev/null 2>"$tmp/ue4"
urc=$?
pkrun "$tmp/k4.prog" "$tmp/ke4" trace --kernel -e "$tmp/defs4" -o "$tmp/k4" -- "$TGT" 4
n=$(wc -l <"$tmp/k4")
if [ $urc -eq 0 ] && [ $rc -eq 0 ] && [ "$n" -eq 13 ] &&
	diff -u <(norm "$tmp/u4") <(norm "$tmp/k4") >"$tmp/d4"; then
	pass "kernel_text_equals_user_space ($n events)"
else
	fail kernel_text_equals_user_space "rc=$urc/$rc n=$n $(head -30 "$tmp/d4") $(cat "$tmp/ue4" "$tmp/ke4")"
fi
# The parts normalised above do have the expected shape on both sides.
if [ "$(grep -cE '^ +trace_target-[0-9]+ +\[[0-9]{3}\] \.\.\.\.\. +[0-9]+\.[0-9]{6}: [a-z]+: \(' "$tmp/k4")" = "$n" ] &&
	[ "$(grep -cE '^ +trace_target-[0-9]+ +\[[0-9]{3}\] \.\.\.\.\. +[0-9]+\.[0-9]{6}: [a-z]+: \(' "$tmp/u4")" = "$n" ]
then pass kernel_and_user_line_shape; else fail kernel_and_user_line_shape "$(head -3 "$tmp/k4" "$tmp/u4")"; fi

# 4b. $stack0 with a return probe on the same function: the entry event
# reads the caller's return address, as the kernel's does, not the
# return-probe trampoline (the return address is taken over after every
# entry handler). Both runs without ASLR, so the addresses compare.
D4B=("p:$G/s0 $TGT:tt_add s0=\$stack0 s1=\$stack1" "r:$G/r0 $TGT:tt_add")
setarch -R "$PK" trace -o "$tmp/u4b" "${D4B[@]}" -- "$TGT" 3 >/dev/null 2>&1
pkrun "$tmp/k4b.prog" "$tmp/ke4b" trace --kernel -o "$tmp/k4b" "${D4B[@]}" -- setarch -R "$TGT" 3
s0u=$(grep -o ' s0=[^ ]*' "$tmp/u4b" | tr -d '\n')
s0k=$(grep -o ' s0=[^ ]*' "$tmp/k4b" | tr -d '\n')
if [ -n "$s0u" ] && [ "$s0u" = "$s0k" ] && [ "$(grep -c ': r0: ' "$tmp/u4b")" = 2 ] &&
	[ "$(grep -c ': s0: ' "$tmp/u4b")" = 2 ]; then
	pass "stack0_with_retprobe_equals_kernel ($s0u)"
else
	fail stack0_with_retprobe_equals_kernel "user:$s0u kernel:$s0k $(head -4 "$tmp/u4b" "$tmp/k4b" "$tmp/ke4b")"
fi

# 5. Filters: the kernel's filter file, and the kernel's own words for a bad one.
pkrun "$tmp/o5.prog" "$tmp/e5" trace --kernel --filter 'loop: i > 5 && i < 9' -o "$tmp/o5" \
	"p:$G/loop $TGT:tt_loop i=%di:s32" -- "$TGT" 20
if [ $rc -eq 0 ] && [ "$(sed -E 's/.* i=//' "$tmp/o5" | tr '\n' ' ')" = "6 7 8 " ] &&
	grep -qE "^$G/loop +20 +- +0 +17$" "$tmp/e5" && gone "$pid"
then pass kernel_filter; else fail kernel_filter "rc=$rc $(cat "$tmp/o5" "$tmp/e5")"; fi
pkrun "$tmp/o5b" "$tmp/e5b" trace --kernel --filter "$G/loop: i >" "p:$G/loop $TGT:tt_loop i=%di:s32" -- "$TGT" 2
caret=$(grep -n '^ *\^$' "$tmp/e5b" | head -1)
if [ $rc -eq 2 ] && grep -q 'error: Invalid value' "$tmp/e5b" && grep -q '^  Command: i >$' "$tmp/e5b" &&
	[ -n "$caret" ] && [ ! -s "$tmp/o5b" ] && gone "$pid"
then pass kernel_filter_error; else fail kernel_filter_error "rc=$rc $(cat "$tmp/e5b")"; fi

# 6. A definition the kernel refuses: its error_log, the caret under the
# culprit, and the events made before it are gone again.
pkrun "$tmp/o6" "$tmp/e6" trace --kernel "p:$G/ok $TGT:tt_add" "p:$G/bad $TGT:tt_add a=%di:u33" -- "$TGT"
cmdline=$(grep '^  Command: ' "$tmp/e6")
caretline=$(grep -A1 '^  Command: ' "$tmp/e6" | tail -1)
want=${cmdline%%u33*}
if [ $rc -eq 2 ] && grep -q '^trace_uprobe: error: Unknown type is specified$' "$tmp/e6" &&
	[ "${caretline//[^ ^]/}" = "$caretline" ] && [ "${#caretline}" -eq $((${#want} + 1)) ] &&
	[ ! -s "$tmp/o6" ] && gone "$pid"
then pass refused_definition_error_log; else
	fail refused_definition_error_log "rc=$rc $(cat "$tmp/e6"; cat $TR/uprobe_events)"; fi
pkrun "$tmp/o6b" "$tmp/e6b" trace --kernel "p:$G/ok $TGT:tt_add" "p:$G/nosym $TGT:no_such_fn" -- "$TGT"
caretline=$(grep -A1 '^  Command: ' "$tmp/e6b" | tail -1)
cmdline=$(grep '^  Command: ' "$tmp/e6b")
want=${cmdline%%no_such_fn*}
if [ $rc -eq 2 ] && grep -q 'error: Invalid probed address or symbol' "$tmp/e6b" &&
	[ "${#caretline}" -eq $((${#want} + 1)) ] && gone "$pid"
then pass unknown_symbol_caret; else fail unknown_symbol_caret "rc=$rc $(cat "$tmp/e6b")"; fi

# 6b. PATH:SYM+OFFS inside an instruction: refused as the user-space tracer
# refuses it (the kernel would plant its breakpoint there and the program die).
read -r i0 i1 < <(objdump -d --no-show-raw-insn "$TGT" | awk '/<tt_add>:$/ {f=1; next}
	f && /^ *[0-9a-f]+:/ {sub(":", "", $1); a[n++]=$1; if (n == 2) {print a[0], a[1]; exit}}')
L=$((16#${i1:-0} - 16#${i0:-0}))
pkrun "$tmp/o6c" "$tmp/e6c" trace --kernel "p:$G/mid $TGT:tt_add+$((L + 1))" -- "$TGT"
rc1=$rc
"$PK" trace "p:$G/mid $TGT:tt_add+$((L + 1))" -- "$TGT" >/dev/null 2>"$tmp/u6c"
pkrun "$tmp/o6d.prog" "$tmp/e6d" trace --kernel -o "$tmp/o6d" "p:$G/next $TGT:tt_add+$L" -- "$TGT"
if [ "${L:-0}" -gt 1 ] && [ $rc1 -eq 2 ] && grep -q 'error: Probe point is not an instruction boundary' "$tmp/e6c" &&
	diff <(grep -v '^#' "$tmp/e6c") <(grep -v '^#' "$tmp/u6c") >/dev/null &&
	[ $rc -eq 0 ] && [ "$(grep -c ': next: ' "$tmp/o6d")" = 2 ] && gone "$pid"
then pass instruction_boundary; else fail instruction_boundary "L=$L rc=$rc1/$rc $(cat "$tmp/e6c" "$tmp/u6c" "$tmp/e6d")"; fi

# 7. Ctrl-C, SIGTERM (no command: system-wide until a signal) and -d.
for sig in INT TERM; do
	bash -c 'echo $$ >"$0"; exec "$@"' "$tmp/pid" "$PK" trace --kernel -o "$tmp/o7" \
		"p:$G/loop $TGT:tt_loop i=%di:s32" 2>"$tmp/e7" &
	bg=$!
	for _ in $(seq 100); do [ -e "$TR/instances/probekit-$bg" ] && grep -q "^p:$G/loop" $TR/uprobe_events && break; sleep 0.05; done
	sleep 0.2
	"$TGT" 5 >/dev/null
	if [ $sig = INT ]; then
		# Another run meanwhile leaves a live run's events and instance alone.
		pkrun "$tmp/o7b" "$tmp/e7b" trace --kernel "p:$G/other $TGT:tt_add" -- "$TGT"
		if [ $rc -eq 0 ] && grep -q "^p:$G/loop" $TR/uprobe_events && [ -d "$TR/instances/probekit-$bg" ] &&
			[ -e "/run/probekit/kernel-$bg" ] && ! grep -q removed "$tmp/e7b"
		then pass live_run_left_alone; else fail live_run_left_alone "rc=$rc $(cat "$tmp/e7b")"; fi
	fi
	sleep 0.3
	kill -$sig $bg
	wait $bg
	rc=$?
	if [ $rc -eq 0 ] && [ "$(grep -c ": loop: " "$tmp/o7")" = 5 ] && grep -qE "^$G/loop +5 " "$tmp/e7" &&
		gone $bg; then pass "cleanup_sig$sig"; else
		fail "cleanup_sig$sig" "rc=$rc $(cat "$tmp/o7" "$tmp/e7")"; fi
done
start=$SECONDS
pkrun "$tmp/o7d.prog" "$tmp/e7d" trace --kernel -d 1 -o "$tmp/o7d" "p:$G/loop $TGT:tt_loop i=%di:s32" -- "$TGT" -1
took=$((SECONDS - start))
loops=$(grep -c ': loop: ' "$tmp/o7d")
if [ $rc -eq 143 ] && [ $took -le 4 ] && [ "$loops" -ge 20 ] && grep -qE "^$G/loop +$loops " "$tmp/e7d" &&
	gone "$pid"; then pass "cleanup_duration ($loops events in 1 s)"; else
	fail cleanup_duration "rc=$rc took=$took loops=$loops $(cat "$tmp/e7d")"; fi

# 8. SIGKILL mid-trace leaves the events, the instance and the state file;
# the next run removes them.
"$PK" trace --kernel -o /dev/null "p:$G/kloop $TGT:tt_loop i=%di:s32" "r:$G/kret $TGT:tt_loop" 2>/dev/null &
bg=$!
for _ in $(seq 100); do grep -q "^r:$G/kret" $TR/uprobe_events && break; sleep 0.05; done
sleep 0.2
kill -KILL $bg
wait $bg 2>/dev/null
if grep -q "^p:$G/kloop" $TR/uprobe_events && grep -q "^r:$G/kret" $TR/uprobe_events &&
	[ -d "$TR/instances/probekit-$bg" ] && grep -q "^uprobe $G/kret$" "/run/probekit/kernel-$bg"
then pass sigkill_leaves_state; else
	fail sigkill_leaves_state "$(cat $TR/uprobe_events; ls $TR/instances /run/probekit)"; fi
pkrun "$tmp/o8" "$tmp/e8" trace --kernel "p:$G/add $TGT:tt_add" -- "$TGT"
if [ $rc -eq 0 ] && gone "$bg" && gone "$pid" &&
	grep -q "removed what a killed run (pid $bg) left: instance probekit-$bg, events $G/kloop, $G/kret" "$tmp/e8"
then pass next_run_removes_leftovers; else
	fail next_run_removes_leftovers "rc=$rc $(cat "$tmp/e8"; cat $TR/uprobe_events; ls $TR/instances)"; fi

# 9. A full buffer: every hit is either printed or counted lost.
N=20000
"$PK" trace --kernel --buffer-size 8 -o "$tmp/o9" "p:$G/loop $TGT:tt_loop i=%di:s32" -- "$TGT" $N >/dev/null 2>"$tmp/e9" &
bg=$!
for _ in $(seq 100); do [ -s "$tmp/o9" ] && break; sleep 0.02; done
kill -STOP $bg
sleep 1
kill -CONT $bg
wait $bg
rc=$?
printed=$(grep -c ': loop: ' "$tmp/o9")
read -r hits lost < <(awk -v e="$G/loop" '$1==e {print $2, $4}' "$tmp/e9")
if [ $rc -eq 0 ] && [ "${hits:-0}" -eq $N ] && [ "${lost:-0}" -gt 0 ] && [ $((printed + lost)) -eq $N ] && gone $bg
then pass "buffer_full_lost_counted ($lost lost)"; else
	fail buffer_full_lost_counted "rc=$rc hits=$hits lost=$lost printed=$printed"; fi

# 10. Unnamed definitions: the user-space tracer's names; -e with comments and -:.
pkrun "$tmp/o10" "$tmp/e10" trace --kernel "p $TGT:tt_add" "r $TGT:tt_add" "p:$G/ $TGT:tt_many" -- "$TGT"
"$PK" trace "p $TGT:tt_add" "r $TGT:tt_add" "p:$G/ $TGT:tt_many" -- "$TGT" >/dev/null 2>"$tmp/u10"
if [ $rc -eq 0 ] && grep -qE '^uprobes/p_tt_add_0 +2 ' "$tmp/e10" && grep -qE '^uprobes/r_tt_add_0 +2 ' "$tmp/e10" &&
	grep -qE "^$G/p_tt_many_0 +1 " "$tmp/e10" &&
	diff <(awk 'NR>1 {sub(/^[^\/]*\//, "", $1); print $1, $2}' "$tmp/e10") \
		<(awk 'NR>1 {sub(/^[^\/]*\//, "", $1); print $1, $2}' "$tmp/u10") >/dev/null &&
	! grep -q 'p_tt_add_0\|r_tt_add_0' $TR/uprobe_events
then pass generated_names_as_user_space; else fail generated_names_as_user_space "rc=$rc $(cat "$tmp/e10" "$tmp/u10")"; fi
printf '# a comment\np:%s/a %s:tt_add a=%%di:s32  # trailing\n\n-:%s/a\np:%s/b %s:tt_name\n' \
	"$G" "$TGT" "$G" "$G" "$TGT" >"$tmp/defs10"
pkrun "$tmp/o10b.prog" "$tmp/e10b" trace --kernel -e "$tmp/defs10" -o "$tmp/o10b" -- "$TGT"
if [ $rc -eq 0 ] && [ "$(grep -c ': b: ' "$tmp/o10b")" = 2 ] && ! grep -q ': a: ' "$tmp/o10b" &&
	! grep -q "^$G/a " "$tmp/e10b"; then pass definition_file_and_drop; else
	fail definition_file_and_drop "rc=$rc $(cat "$tmp/o10b" "$tmp/e10b")"; fi

# 11. kprobes: this host has none; the message names the missing option.
if [ ! -e $TR/kprobe_events ]; then
	want=CONFIG_KPROBES
	if zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_KPROBES=y'; then want=CONFIG_KPROBE_EVENTS; fi
	pkrun "$tmp/o11" "$tmp/e11" trace --kernel "p:$G/kp vfs_read" -- "$TGT"
	if [ $rc -eq 1 ] && [ ! -s "$tmp/o11" ] && gone "$pid" &&
		grep -qE "^probekit trace: this kernel has no kprobe events \($want is not set in (/proc/config.gz|/boot/config-.*)\)$" "$tmp/e11"
	then pass kprobe_missing_message; else fail kprobe_missing_message "rc=$rc $(cat "$tmp/e11")"; fi
	"$PK" list --kernel >"$tmp/o12" 2>"$tmp/e12"
	rc=$?
	if [ $rc -eq 1 ] && [ ! -s "$tmp/o12" ] &&
		grep -qE '^probekit list: this kernel has no kprobes \(CONFIG_KPROBES is not set in .*\)$' "$tmp/e12"
	then pass list_kernel_no_kprobes; else fail list_kernel_no_kprobes "rc=$rc $(cat "$tmp/e12")"; fi
else
	pkrun "$tmp/o11" "$tmp/e11" trace --kernel -d 0.5 "p:$G/kp vfs_read" -- cat /etc/hostname
	if [ $rc -eq 0 ] && grep -q ': kp: (vfs_read+0x0/' "$tmp/o11" && gone "$pid"; then pass kprobe_trace; else
		fail kprobe_trace "rc=$rc $(cat "$tmp/e11")"; fi
	"$PK" list --kernel 'vfs_*' >"$tmp/o12" 2>"$tmp/e12"
	rc=$?
	if [ $rc -eq 0 ] && grep -qx 'vfs_read' "$tmp/o12" && ! grep -qv '^vfs_' "$tmp/o12"; then
		pass list_kernel; else fail list_kernel "rc=$rc $(head "$tmp/e12")"; fi
fi

# 12. The help says --kernel.
if "$PK" trace -h | grep -q -- '--kernel' && "$PK" list -h | grep -q -- '--kernel' &&
	"$PK" trace --kernel -h | grep -q 'uprobe_events'; then pass help_mentions_kernel; else
	fail help_mentions_kernel "no --kernel in -h"; fi
exit $failed
