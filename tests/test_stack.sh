#!/usr/bin/env bash
# probekit trace --stack: user stacks after each event, as the kernel's
# userstacktrace and sym-userobj options print them. The kernel is the
# oracle: the same uprobe events on the same frame-pointer program through
# tracefs (probekit trace --kernel --stack) must give the same frames, in
# the same order, with the same object[+offset] text. Through a
# return-probed frame the caller must show, not the return trampoline.
set -u
cd "$(dirname "$0")/.."
# shellcheck source=tests/lib.sh
. tests/lib.sh
ST=$(realpath "$B/tests/helpers/stack_target")

# Each event's name, then its stack's frames: "EVENT\n => obj[+0xoff]...".
stacks() {
	awk '/: <user stack trace>$/ { next }
	     /^ => / { print; next }
	     / [a-z_]+: \(/ { sub(/^.*\] [^ ]+ +[0-9]+\.[0-9]+: /, ""); sub(/:.*/, ""); print }' "$1"
}

defs=("p:probekit/leaf $ST:st_leaf" "p:probekit/midp $ST:st_mid+4")

# 1. User space: three stacks per event, each walking up to main and libc.
"$PK" trace --stack "${defs[@]}" -- "$ST" >"$tmp/u" 2>"$tmp/uerr"
rc=$?
stacks "$tmp/u" >"$tmp/us"
n=$(grep -c "^ => $ST\[+0x[0-9a-f]*\]$" "$tmp/us")
libc=$(grep -c '^ => /.*libc\.so\.6\[+0x[0-9a-f]*\]$' "$tmp/us")
if [ $rc = 0 ] && [ "$n" = 18 ] && [ "$libc" = 6 ] && [ "$(grep -c '<user stack trace>' "$tmp/u")" = 6 ]; then
	pass stack_user_frames
else
	fail stack_user_frames "rc=$rc, $n frames in the program (want 18), $libc in libc (want 6)"
	detail 30 <"$tmp/u"
	detail 5 <"$tmp/uerr"
fi
# The first frame is the probed address; the second, mid's caller (the
# frame-pointer walk from a function's first instruction skips its own
# caller, as the kernel's does).
first=$(sed -n '2p' "$tmp/us")
leaf_off=$(file_offset "$ST" st_leaf)
mid_off=$(file_offset "$ST" st_mid)
text_off=$(readelf -lW "$ST" | awk '$1 == "LOAD" && / R E / { print $2; exit }')
want_mid=$(printf ' => %s[+0x%x]' "$ST" $((mid_off + 4 - text_off)))
want_leaf=$(printf ' => %s[+0x%x]' "$ST" $((leaf_off - text_off)))
if grep -qxF "$want_mid" "$tmp/us" && grep -qxF "$want_leaf" "$tmp/us"; then
	pass stack_first_frame_is_probe
else
	fail stack_first_frame_is_probe "want '$want_leaf' and '$want_mid'; first frame '$first'"
fi

# 2. Depth.
"$PK" trace --stack=2 "${defs[0]}" -- "$ST" >"$tmp/d" 2>/dev/null
if [ "$(grep -c '^ => ' "$tmp/d")" = 6 ]; then pass stack_depth; else
	fail stack_depth "$(grep -c '^ => ' "$tmp/d") frames for 3 events with --stack=2"; fi

# 3. Through a return-probed frame: st_top's return address is the
# trampoline while st_leaf runs; the stack shows main, as without the retprobe.
"$PK" trace --stack "${defs[@]}" "r:probekit/topr $ST:st_top" -- "$ST" >"$tmp/r" 2>/dev/null
stacks "$tmp/r" | awk '/^[a-z]/ { ev = $0 } ev != "topr"' | grep -v '^topr$' >"$tmp/rs"
if [ -s "$tmp/rs" ] && cmp -s "$tmp/us" "$tmp/rs"; then
	pass stack_through_retprobe
else
	fail stack_through_retprobe "stacks differ with st_top return-probed"
	diff "$tmp/us" "$tmp/rs" | detail 12
fi
# A return event's stack starts at the caller it returns to.
if stacks "$tmp/r" | grep -A1 '^topr$' | grep -q "^ => $ST\[+0x"; then
	pass stack_return_event
else
	fail stack_return_event "$(grep -A3 'topr:' "$tmp/r" | head -4)"
fi

# 4. A stacktrace trigger: stacks for that event only.
"$PK" trace "${defs[@]}" --trigger 'midp: stacktrace' -- "$ST" >"$tmp/t" 2>/dev/null
if [ "$(grep -c '<user stack trace>' "$tmp/t")" = 3 ] &&
	[ "$(grep -A1 ' midp: (' "$tmp/t" | grep -c '<user stack trace>')" = 3 ]; then
	pass stacktrace_trigger
else
	fail stacktrace_trigger "want a stack after each midp line, and only there"
	detail 20 <"$tmp/t"
fi

# 5. common_stacktrace as a hist key: one entry per call site of main, its
# frames as %pS, as the kernel prints a stack key.
"$PK" trace "${defs[0]}" --trigger 'leaf: hist:keys=common_stacktrace' -- "$ST" >"$tmp/h" 2>/dev/null
if grep -qxF 'trigger info: hist:keys=common_stacktrace:vals=hitcount:sort=hitcount:size=2048 [active]' \
	<(sed 's/^# //' "$tmp/h") &&
	[ "$(grep -c '^{ common_stacktrace:$' "$tmp/h")" = 3 ] &&
	[ "$(grep -c '^         st_leaf+0x0/0x[0-9a-f]*$' "$tmp/h")" = 3 ] &&
	[ "$(grep -c '^         st_top+0x[0-9a-f]*/0x[0-9a-f]*$' "$tmp/h")" = 3 ] &&
	[ "$(grep '^         main+0x' "$tmp/h" | sort -u | wc -l)" = 3 ] &&
	[ "$(grep -c '^} hitcount:          1$' "$tmp/h")" = 3 ]; then
	pass hist_stacktrace_key
else
	fail hist_stacktrace_key "want 3 entries: st_leaf, st_top, main (3 call sites)"
	detail 30 <"$tmp/h"
fi

# 6. The kernel as oracle: the same events through tracefs uprobes. The
# program lingers so that the kernel can still name its objects.
uprobes_or_skip stack_kernel
"$PK" trace --kernel --stack "${defs[@]}" -- "$ST" 300 >"$tmp/k" 2>"$tmp/kerr"
rc=$?
if ! [ -e $TR/options/userstacktrace ]; then
	echo "SKIP stack_kernel_same: this kernel has no userstacktrace option"
	exit $failed
fi
stacks "$tmp/k" >"$tmp/ks"
if [ $rc = 0 ] && [ -s "$tmp/ks" ] && cmp -s "$tmp/ks" "$tmp/us"; then
	pass stack_kernel_same
else
	fail stack_kernel_same "rc=$rc; the kernel's stacks (<) and probekit's (>) differ"
	diff "$tmp/ks" "$tmp/us" | detail 20
	detail 5 <"$tmp/kerr"
fi
exit $failed
