#!/usr/bin/env bash
# probekit trace -p / list -p: attach to running programs and leave them as
# they were. Each target's code is hashed (from /proc/PID/mem) before the
# attach and after the detach; its output is compared with an untraced run.
# One PASS/FAIL line per check.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
B=${BUILD:-build}
PK=$(realpath "$B/probekit")
TGT=$(realpath "$B/tests/helpers/attach_target")
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# sha256 of every executable file mapping of PID (path and bytes), the agent's aside.
text_hash() {
	local pid=$1 lo hi perm _ path
	while read -r range perm _ _ _ path; do
		[[ $perm == *x* && $path == /* && $path != *probekit-agent* ]] || continue
		lo=$((16#${range%-*})) hi=$((16#${range#*-}))
		echo "$path"
		dd if=/proc/$pid/mem bs=4096 skip=$((lo / 4096)) count=$(((hi - lo) / 4096)) 2>/dev/null |
			sha256sum
	done </proc/$pid/maps
}
agent_mapped() { grep -q probekit-agent /proc/$1/maps; }
wait_ready() { # file: until the target said "ready"
	local i
	for i in $(seq 200); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.02; done
	return 1
}
# start MODE ARGS...: the target in the background, its pid in $tpid, output in $tmp/t.$tpid
start() {
	# A "ready" left by an earlier target of the same arguments is not this one's.
	rm -f "$tmp/err.$#.$1"
	"$TGT" "$@" >"$tmp/out.$#.$1" 2>"$tmp/err.$#.$1" &
	tpid=$!
	pids+=("$tpid")
	wait_ready "$tmp/err.$#.$1"
}

# 1. A busy program with 24 threads: attach, trace, detach; its code and output unchanged.
"$TGT" busy 24 600000 >"$tmp/plain" 2>/dev/null
start busy 24 600000
before=$(text_hash $tpid)
"$PK" trace -p $tpid -d 0.5 'p:w at_work x=$arg1:s64' 'r:wr at_work ret=$retval:s64' \
	>"$tmp/tr1" 2>"$tmp/tr1.err"
rc=$?
after=$(text_hash $tpid)
if [ $rc -eq 0 ] && grep -q ' w: (at_work+0x0/' "$tmp/tr1" && grep -q 'wr: (worker+.* <- at_work) ret=' "$tmp/tr1"; then
	pass busy_trace_events
else
	fail busy_trace_events "rc=$rc $(head -3 "$tmp/tr1"; cat "$tmp/tr1.err")"
fi
if grep -q 'the agent unloaded' "$tmp/tr1.err" && ! agent_mapped $tpid; then pass busy_agent_unloaded; else
	fail busy_agent_unloaded "$(cat "$tmp/tr1.err"; grep probekit /proc/$tpid/maps)"; fi
if [ -n "$before" ] && [ "$before" = "$after" ]; then pass busy_text_unchanged; else
	fail busy_text_unchanged "$(diff <(echo "$before") <(echo "$after") | head)"; fi
# A second attach to the same process after the first left.
"$PK" trace -p $tpid -d 0.3 'p:o at_other x=$arg1:s64' >"$tmp/tr1b" 2>"$tmp/tr1b.err"
rc=$?
if [ $rc -eq 0 ] && grep -q ' o: (at_other+0x0/' "$tmp/tr1b" && ! agent_mapped $tpid &&
	[ "$before" = "$(text_hash $tpid)" ]; then pass busy_attach_again; else
	fail busy_attach_again "rc=$rc $(cat "$tmp/tr1b.err")"; fi
wait $tpid
rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/plain" "$tmp/out.3.busy"; then pass busy_output_unchanged; else
	fail busy_output_unchanged "rc=$rc $(diff "$tmp/plain" "$tmp/out.3.busy" | head -5)"; fi

# 2. Threads that sit in malloc and free: loading must not deadlock (five times over).
"$TGT" malloc 8 1000000 >"$tmp/plain.m" 2>/dev/null
start malloc 8 1000000
before=$(text_hash $tpid)
ok=1
for i in 1 2 3 4 5; do
	timeout 20 "$PK" trace -p $tpid -d 0.2 'p:w at_work x=$arg1:s64' >"$tmp/trm" 2>"$tmp/trm.err" ||
		{ ok=0; break; }
	grep -q ' w: (at_work' "$tmp/trm" || { ok=0; break; }
done
if [ $ok = 1 ] && [ "$before" = "$(text_hash $tpid)" ] && ! agent_mapped $tpid; then
	pass attach_in_malloc
else
	fail attach_in_malloc "round $i: $(cat "$tmp/trm.err")"
fi
wait $tpid
if [ $? -eq 0 ] && cmp -s "$tmp/plain.m" "$tmp/out.3.malloc"; then pass malloc_output_unchanged; else
	fail malloc_output_unchanged "$(diff "$tmp/plain.m" "$tmp/out.3.malloc" | head -5)"; fi

# 3. A program blocked in read() on a pipe: attach, then feed it lines; read() restarts.
mkfifo "$tmp/fifo"
"$TGT" read <"$tmp/fifo" >"$tmp/out.read" 2>"$tmp/err.read" &
tpid=$!
pids+=("$tpid")
exec 7>"$tmp/fifo"
wait_ready "$tmp/err.read"
sleep 0.1
grep -q '^State:.*S' /proc/$tpid/status
"$PK" trace -p $tpid 'p:w at_work x=$arg1:s64' >"$tmp/trr" 2>"$tmp/trr.err" &
tracer=$!
for i in $(seq 100); do grep -q 'attached to' "$tmp/trr.err" && break; sleep 0.05; done
printf 'a\nbb\nccc\n' >&7
for i in $(seq 100); do [ "$(grep -c ' w: ' "$tmp/trr")" -ge 3 ] && break; sleep 0.05; done
kill -INT $tracer
wait $tracer
rc=$?
printf 'dddd\n' >&7
exec 7>&-
wait $tpid
if [ $rc -eq 0 ] && grep -q 'w: (at_work+0x0/.*) x=2$' "$tmp/trr" && grep -q 'x=4$' "$tmp/trr" &&
	! grep -q 'x=5$' "$tmp/trr" && [ "$(cat "$tmp/out.read")" = "$(printf '17\n24\n31\n38')" ]; then
	pass attach_in_read
else
	fail attach_in_read "rc=$rc $(cat "$tmp/trr" "$tmp/trr.err" "$tmp/out.read")"
fi

# 4. The tracer is killed: the agent disarms by itself within 100 ms; the program goes on.
"$TGT" busy 4 1000000 >"$tmp/plain.k" 2>/dev/null
start busy 4 1000000
before=$(text_hash $tpid)
addr=$(awk '$3 == "at_work" {print $1}' < <(nm "$TGT"))
base=$(awk -v p="$TGT" '$6 == p {print $1; exit}' /proc/$tpid/maps)
off=$(readelf -lW "$TGT" | awk '$1 == "LOAD" && $2 == "0x000000" {print $3; exit}')
at=$((16#${base%-*} + 16#$addr - off))
byte() { dd if=/proc/$tpid/mem bs=1 skip=$at count=1 2>/dev/null | od -An -tx1 | tr -d ' '; }
orig=$(byte)
"$PK" trace -p $tpid 'p:w at_work x=$arg1:s64' >"$tmp/trk" 2>"$tmp/trk.err" &
tracer=$!
for i in $(seq 100); do grep -q ' w: ' "$tmp/trk" 2>/dev/null && break; sleep 0.05; done
armed=$(byte)
kill -9 $tracer
t0=$(date +%s%N)
# Planted: an int3 or (optimized) a jump; restored: the byte it had.
while [ "$(byte)" != "$orig" ] && [ $(($(date +%s%N) - t0)) -lt 2000000000 ]; do :; done
ms=$((($(date +%s%N) - t0) / 1000000))
wait $tracer 2>/dev/null
echo "INFO tracer SIGKILL -> probe byte restored in $ms ms"
if [ "$armed" != "$orig" ] && [ "$(byte)" = "$orig" ] && [ $ms -lt 100 ]; then pass sigkill_disarms_within_100ms; else
	fail sigkill_disarms_within_100ms "byte before kill '$armed', after '$(byte)' in $ms ms"; fi
sleep 0.1
# The agent stays loaded (nothing is left to unload it), and its libraries: compare what was there.
after=$(text_hash $tpid | awk 'NR == FNR { keep[$0] = 1; next } /^\// { show = ($0 in keep) } show' <(echo "$before") -)
if [ "$before" = "$after" ]; then pass sigkill_text_restored; else
	fail sigkill_text_restored "$(diff <(echo "$before") <(echo "$after") | head)"; fi
wait $tpid
if [ $? -eq 0 ] && cmp -s "$tmp/plain.k" "$tmp/out.3.busy"; then pass sigkill_output_unchanged; else
	fail sigkill_output_unchanged "$(diff "$tmp/plain.k" "$tmp/out.3.busy" | head -5)"; fi

# 5. Two tracers at once, each its own events; the first leaving does not disturb the second.
start busy 4 3000000
before=$(text_hash $tpid)
"$PK" trace -p $tpid 'p:a at_work x=$arg1:s64' >"$tmp/ta" 2>"$tmp/ta.err" &
ta=$!
for i in $(seq 100); do grep -q 'attached to' "$tmp/ta.err" && break; sleep 0.05; done
"$PK" trace -p $tpid 'p:b at_other x=$arg1:s64' >"$tmp/tb" 2>"$tmp/tb.err" &
tb=$!
for i in $(seq 100); do grep -q 'attached to' "$tmp/tb.err" && break; sleep 0.05; done
sleep 0.2
kill -INT $ta
wait $ta
rca=$?
na=$(wc -l <"$tmp/tb")
sleep 0.3
nb=$(wc -l <"$tmp/tb")
kill -INT $tb
wait $tb
rcb=$?
if [ $rca -eq 0 ] && [ $rcb -eq 0 ] && grep -q ' a: (at_work' "$tmp/ta" && ! grep -q ' b: ' "$tmp/ta" &&
	grep -q ' b: (at_other' "$tmp/tb" && ! grep -q ' a: ' "$tmp/tb" && [ "$nb" -gt "$na" ]; then
	pass two_tracers
else
	fail two_tracers "rc $rca $rcb, b lines $na -> $nb; $(cat "$tmp/ta.err" "$tmp/tb.err")"
fi
if grep -q 'stays loaded for another tracer' "$tmp/ta.err" && grep -q 'the agent unloaded' "$tmp/tb.err" &&
	! agent_mapped $tpid && [ "$before" = "$(text_hash $tpid)" ]; then
	pass two_tracers_unloaded_by_last
else
	fail two_tracers_unloaded_by_last "$(cat "$tmp/ta.err" "$tmp/tb.err")"
fi
kill $tpid

# 6. A seccomp filter (execve, ptrace, personality refused) that the agent's calls pass.
start seccomp 4 3000000
"$PK" trace -p $tpid -d 0.3 'p:w at_work x=$arg1:s64' >"$tmp/ts" 2>"$tmp/ts.err"
rc=$?
if [ $rc -eq 0 ] && grep -q ' w: ' "$tmp/ts" && ! agent_mapped $tpid; then pass attach_under_seccomp; else
	fail attach_under_seccomp "rc=$rc $(cat "$tmp/ts.err")"; fi
kill $tpid

# 7. Another mount namespace where the agent's directory is hidden: a copy is placed in its /tmp.
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	mkdir -p "$tmp/ns"
	cp "$TGT" "$tmp/ns/attach_target"
	agentdir=$(dirname "$PK")
	unshare -m --propagation private sh -c "mount -t tmpfs none '$agentdir' && exec '$tmp/ns/attach_target' busy 2 3000000" \
		>/dev/null 2>"$tmp/err.ns" &
	ns=$!
	pids+=("$ns")
	wait_ready "$tmp/err.ns"
	tpid=$(pgrep -f "$tmp/ns/attach_target" | head -1)
	if [ -e "/proc/$tpid/root$PK" ]; then
		fail mount_namespace "the agent is still visible inside the namespace"
	else
		"$PK" trace -p $tpid -d 0.3 'p:w at_work x=$arg1:s64' >"$tmp/tn" 2>"$tmp/tn.err"
		rc=$?
		if [ $rc -eq 0 ] && grep -q ' w: ' "$tmp/tn" && ! agent_mapped $tpid &&
			! ls /proc/$tpid/root/tmp/.probekit-agent-* >/dev/null 2>&1; then
			pass mount_namespace
		else
			fail mount_namespace "rc=$rc $(cat "$tmp/tn.err")"
		fi
	fi
	kill $tpid $ns 2>/dev/null
else
	echo "SKIP mount_namespace: unshare -m is not allowed here"
fi

# 8. probekit list -p: the functions of a running process, and nothing left behind.
start busy 2 3000000
before=$(text_hash $tpid)
"$PK" list -p $tpid 'at_*' >"$tmp/list" 2>"$tmp/list.err"
rc=$?
if [ $rc -eq 0 ] && grep -qx 'at_work' "$tmp/list" && grep -qx 'at_other' "$tmp/list" &&
	! agent_mapped $tpid && [ "$before" = "$(text_hash $tpid)" ]; then
	pass list_process
else
	fail list_process "rc=$rc $(cat "$tmp/list" "$tmp/list.err")"
fi

# 9. Errors, each with its message.
expect_error() { # name pattern command...
	local name=$1 pat=$2
	shift 2
	timeout 30 "$@" >"$tmp/e.out" 2>"$tmp/e.err"
	local rc=$?
	if [ $rc -ne 0 ] && grep -q -- "$pat" "$tmp/e.err"; then pass "$name"; else
		fail "$name" "rc=$rc $(cat "$tmp/e.err")"; fi
}
expect_error error_no_process 'no process 4194000' "$PK" trace -p 4194000 'p:w at_work'
expect_error error_bad_pid '-p takes a process id' "$PK" trace -p abc 'p:w at_work'
expect_error error_pid_and_command 'exclude each other' "$PK" trace -p $tpid 'p:w at_work' -- true
# A zombie: its parent exec'd a program that never reaps it.
sh -c 'sleep 0.01 & echo $!; exec sleep 3' >"$tmp/zombie" &
pids+=("$!")
sleep 0.3
zombie=$(cat "$tmp/zombie")
expect_error error_exited 'has exited' "$PK" trace -p "$zombie" 'p:w at_work'
expect_error error_undefined_symbol 'Invalid probed address or symbol' "$PK" trace -p $tpid 'p:w no_such_function'
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 5 &
	other=$!
	pids+=("$other")
	sleep 0.1
	expect_error error_other_user 'belongs to user' \
		setpriv --reuid=daemon --regid=daemon --clear-groups "$PK" trace -p $other 'p:w nanosleep'
	kill $other
fi
"$TGT" traceme >"$tmp/traced" 2>/dev/null &
pids+=("$!")
for i in $(seq 50); do [ -s "$tmp/traced" ] && break; sleep 0.02; done
pids+=("$(cat "$tmp/traced")")
expect_error error_already_traced 'already traced by process' "$PK" trace -p "$(cat "$tmp/traced")" 'p:w at_work'
if cc -static -O1 -o "$tmp/static" -x c - <<<'#include <unistd.h>
int main(void){for(;;)pause();}' 2>/dev/null; then
	"$tmp/static" &
	pids+=("$!")
	sleep 0.1
	expect_error error_static 'statically linked' "$PK" trace -p $! 'p:w main'
else
	fail error_static "cannot build a static program (libc6-dev's libc.a missing?)"
fi
# An i386 program (the kernel runs it with IA32 emulation): built with binutils alone.
if printf '.globl _start\n_start:\n mov $29, %%eax\n int $0x80\n jmp _start\n' >"$tmp/x86.s" && # arch-lint: allow
	as --32 -o "$tmp/x86.o" "$tmp/x86.s" && ld -m elf_i386 -o "$tmp/x86" "$tmp/x86.o" &&
	{ "$tmp/x86" & } 2>/dev/null; then
	pids+=("$!")
	sleep 0.1
	if [ -d /proc/$! ]; then
		expect_error error_not_x86_64 'not an x86-64 program' "$PK" trace -p $! 'p:w main'
	else
		echo "SKIP error_not_x86_64: this kernel does not run i386 programs"
	fi
else
	fail error_not_x86_64 "cannot build an i386 program with as/ld"
fi
kill $tpid
exit $failed
