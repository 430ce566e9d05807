#!/bin/bash
# Issue 10 item 9: messages that say what to do. A symbol that does not
# exist gets the nearest names; an object that is not loaded gets the
# objects that are (not the agent's own libraries) and, at the end, that it
# never fired; a stripped program says so and how to use PATH:OFFSET (which
# then works), list -x on it too; a kernel uprobe on the instruction is
# named; a static program is pointed at --kernel; list -- CMD does not
# list the agent's libraries as the program's.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
cd "$tmp" || exit 1

"$PK" trace 'p:x tt_ad' -- "$TGT" >out 2>err
[ $? != 0 ] && grep -q "no function 'tt_ad'; the nearest names: tt_add" err && pass near_names ||
	fail near_names "$(cat err)"
"$PK" trace 'p:x libc.so.6:mallc' -- "$TGT" >out 2>err
grep -q "no function 'mallc' in libc.so.6; the nearest names: malloc" err && pass near_names_in_object ||
	fail near_names_in_object "$(cat err)"

"$PK" trace 'p:x libc.so:malloc' -d 0.5 -- "$TGT" >out 2>err
if grep -q 'waits for libc.so to be loaded' err && grep -q '^  loaded now: trace_target, .*libc.so.6' err &&
	! grep -q 'loaded now:.*\(libZydis\|libelf\|probekit-agent\)' err &&
	grep -q 'did you mean libc.so.6?' err && grep -q 'probekit/x never fired: no process loaded libc.so' err
then pass object_not_loaded
else fail object_not_loaded "$(cat err)"; fi

cp "$TGT" stripped && strip stripped
"$PK" trace 'p:x tt_add' -- ./stripped >out 2>err
grep -q "stripped has no symbol table (stripped): probe it by file offset, as in 'p $PWD/stripped:0x" err &&
	pass stripped_says_offset || fail stripped_says_offset "$(cat err)"
off=$(file_offset "$TGT" tt_add)
"$PK" trace "p:x $PWD/stripped:$off a=$PK_REG_ARG1:s32" -- ./stripped >out 2>err
[ "$(grep -c ': x: .* a=' out)" = 2 ] && pass stripped_by_offset_works || fail stripped_by_offset_works "$(cat out err)"
"$PK" list -x ./stripped >out 2>err
[ $? = 1 ] && grep -q 'stripped has no symbol table (stripped)' err && pass list_stripped_says_so ||
	fail list_stripped_says_so "$(cat err)"

if cc -static -o static -x c - <<<'int main(void){return 0;}' 2>/dev/null; then
	"$PK" trace 'p:x main' -- ./static >out 2>err
	grep -q "probekit trace --kernel 'p ./static:main' -- ./static" err && pass static_suggests_kernel ||
		fail static_suggests_kernel "$(cat err)"
fi

"$PK" list -- /bin/true >out 2>err
grep -q '\[libc.so.6\]' out && ! grep -q '\[\(libZydis\|libelf\|libz\)' out && pass list_not_agent_libraries ||
	fail list_not_agent_libraries "$(grep -o '\[[^]]*\]' out | sort | uniq -c)"

[ -e $TR/uprobe_events ] || mount -t tracefs nodev $TR 2>/dev/null
if [ -w $TR/uprobe_events ]; then
	"$PK" trace --kernel "p:k $TGT:tt_add" -d 5 >/dev/null 2>&1 &
	kp=$!
	for i in $(seq 50); do grep -q '/k ' $TR/uprobe_events 2>/dev/null && break; sleep 0.1; done
	"$PK" trace 'p:x tt_add' -- "$TGT" >out 2>err
	kill -INT $kp
	wait $kp
	grep -q "a breakpoint (.*) is there already, a debugger's or a kernel uprobe's" err &&
		pass kernel_uprobe_named || fail kernel_uprobe_named "$(cat err)"
else
	echo "SKIP kernel_uprobe_named: no writable $TR/uprobe_events"
fi
exit $failed
