#!/bin/bash
# Issue 10 items 2 and 10: every program the command and its children exec
# is traced (bash -c, make, xargs), each with its own pid and comm, with
# definitions on objects a program does not load waiting; --first-only
# traces the first program alone. The trace ends when every traced process
# has ended: a daemon forked by the command that outlives it, calling
# probed functions for a second, has all its events printed.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
cd "$tmp" || exit 1
OPEN='p:op libc.so.6:open64 f=+0($arg1):string'

# The issue's command: cat's open is traced, under cat's name.
"$PK" trace "$OPEN" -- bash -c 'cat /etc/hostname' >out.txt 2>err.txt
rc=$?
[ $rc = 0 ] && grep -qE '^ +cat-[0-9]+ .*: op: .* f="/etc/hostname"$' out.txt && pass follow_bash_c ||
	fail follow_bash_c "rc=$rc: $(cat out.txt err.txt | head -5)"

# make runs its recipes through sh; xargs runs cat; each program its own pid.
printf 'all:\n\t@cat /etc/hostname >/dev/null\n\t@echo /etc/hostname | xargs cat >/dev/null\n' >Makefile
"$PK" trace "$OPEN" -- make -s >out.txt 2>err.txt
rc=$?
n=$(grep -cE '^ +cat-[0-9]+ .*f="/etc/hostname"$' out.txt)
pids=$(grep -E '^ +cat-[0-9]+ .*f="/etc/hostname"$' out.txt | sed -E 's/^ +cat-([0-9]+) .*/\1/' | sort -u | wc -l)
[ $rc = 0 ] && [ "$n" = 2 ] && [ "$pids" = 2 ] && grep -qE '^ +make-[0-9]+ ' out.txt &&
	pass follow_make_xargs || fail follow_make_xargs "rc=$rc n=$n pids=$pids: $(head -5 out.txt err.txt)"

# A definition on the program's own function waits in bash, arms in each program.
"$PK" trace 'p:add trace_target:tt_add a=$arg1:s32' 'r:addret trace_target:tt_add ret=$retval:s32' \
	-- bash -c "$TGT >/dev/null; $TGT >/dev/null; exit 7" >out.txt 2>err.txt
rc=$?
n=$(grep -cE '^ +trace_target-[0-9]+ .*: add: \(tt_add\+0x0/0x[0-9a-f]+\) a=(1|-5)$' out.txt)
r=$(grep -cE ': addret: \(main\+0x[0-9a-f]+/0x[0-9a-f]+ <- tt_add\) ret=' out.txt)
pids=$(grep -E ': add: ' out.txt | sed -E 's/^ +trace_target-([0-9]+) .*/\1/' | sort -u | wc -l)
[ $rc = 7 ] && [ "$n" = 4 ] && [ "$r" = 4 ] && [ "$pids" = 2 ] && pass follow_deferred_definition ||
	fail follow_deferred_definition "rc=$rc n=$n r=$r pids=$pids: $(cat out.txt err.txt | head -8)"

# --first-only: the shell alone.
"$PK" trace --first-only "$OPEN" -- bash -c 'cat /etc/hostname; exit 0' >out.txt 2>err.txt
rc=$?
[ $rc = 0 ] && ! grep -q ' cat-' out.txt && pass first_only ||
	fail first_only "rc=$rc: $(head -5 out.txt)"

# A daemon: forked, its own session, alive 1 s after the command exits,
# opening a file every 100 ms. Every one of its 10 events is printed.
cat >daemon.sh <<'D'
setsid bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.1; cat /etc/hostname; done' \
	</dev/null >/dev/null 2>&1 &
exit 3
D
start=$(date +%s%N)
"$PK" trace "$OPEN" -- bash daemon.sh >out.txt 2>err.txt
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
n=$(grep -cE ' cat-[0-9]+ .*f="/etc/hostname"$' out.txt)
if [ $rc = 3 ] && [ "$n" = 10 ] && [ $ms -ge 900 ] && grep -qE '^probekit/op +[0-9]+ +0 +0 +0$' err.txt
then pass daemon_outlives_command
else fail daemon_outlives_command "rc=$rc events=$n after ${ms} ms: $(tail -3 err.txt)"; fi

# --kernel --tree: the command's process tree only, while another process
# opens the same file all along.
[ -e $TR/uprobe_events ] || mount -t tracefs nodev $TR 2>/dev/null
if [ -w $TR/uprobe_events ]; then
	LIBC=$(ldd /bin/cat | awk '/libc.so.6/ {print $3}')
	(for i in $(seq 40); do cat /etc/hostname >/dev/null; sleep 0.02; done) &
	noise=$!
	"$PK" trace --kernel --tree "p:op $LIBC:open64 f=+0($PK_REG_ARG1):string" -- \
		bash -c 'cat /etc/hostname >/dev/null; sleep 0.3; cat /etc/passwd >/dev/null; exit 4' \
		>out.txt 2>err.txt
	rc=$?
	wait $noise
	# The kernel names a task from its comm cache, which may still say bash
	# for the cat that bash just exec'd: count the opens, whoever is named.
	h=$(grep -cE ' (cat|bash)-[0-9]+ .*f="/etc/hostname"$' out.txt)
	p=$(grep -cE ' (cat|bash)-[0-9]+ .*f="/etc/passwd"$' out.txt)
	[ $rc = 4 ] && [ "$h" = 1 ] && [ "$p" = 1 ] && pass kernel_tree ||
		fail kernel_tree "rc=$rc hostname=$h passwd=$p: $(head -5 out.txt err.txt)"
	(for i in $(seq 20); do cat /etc/hostname >/dev/null; sleep 0.02; done) &
	noise=$!
	"$PK" trace --kernel "p:op $LIBC:open64 f=+0($PK_REG_ARG1):string" -- sleep 0.3 >out.txt 2>err.txt
	wait $noise
	h=$(grep -cE ' cat-[0-9]+ .*f="/etc/hostname"$' out.txt)
	[ "$h" -ge 1 ] && pass kernel_without_tree_system_wide ||
		fail kernel_without_tree_system_wide "no event of the other process: $(head -3 err.txt)"
else
	echo "SKIP kernel_tree: no writable $TR/uprobe_events"
fi
exit $failed
