#!/bin/bash
# Issue 10 item 5: a tracer killed with SIGKILL, then a clean one. The
# clean detach must unload the agent (the session count and the dlopen
# count are right after a tracer died), and the agent's thread leaves no
# thread stack behind: the target's maps end as they began but for what
# glibc's allocator made (see the INFO line).
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
T=$(realpath "$B/tests/helpers/attach_target")
"$T" busy 4 100000000 >/dev/null 2>"$tmp/t.err" &
tp=$!
disown $tp
trap 'kill -9 $tp 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 200); do grep -q ready "$tmp/t.err" 2>/dev/null && break; sleep 0.02; done
# Mappings as "start-end perm path", without the heap's growth.
maps() { awk '$6 != "[heap]" {print $1, $2, $6}' /proc/$tp/maps; }
maps >"$tmp/m0"

"$PK" trace -p $tp 'p:w at_work x=$arg1:s64' >"$tmp/k.out" 2>"$tmp/k.err" &
tr=$!
for i in $(seq 200); do grep -q ' w: ' "$tmp/k.out" 2>/dev/null && break; sleep 0.02; done
kill -9 $tr
wait $tr 2>/dev/null
sleep 0.2
grep -q probekit-agent /proc/$tp/maps && pass orphan_agent_stays_inert ||
	fail orphan_agent_stays_inert "the agent was unloaded by nothing?"

"$PK" trace -p $tp -d 0.3 'p:w at_work x=$arg1:s64' >"$tmp/c.out" 2>"$tmp/c.err"
rc=$?
if [ $rc = 0 ] && grep -q 'the agent unloaded' "$tmp/c.err" && ! grep -q probekit-agent /proc/$tp/maps
then pass clean_detach_after_sigkill_unloads
else fail clean_detach_after_sigkill_unloads "rc=$rc: $(grep probekit "$tmp/c.err")"; fi

maps >"$tmp/m1"
added=$(comm -13 <(sort "$tmp/m0") <(sort "$tmp/m1"))
# An 8 MiB thread stack: a private anonymous rw mapping of 8 MiB; anything of a file.
stack="" others=""
while read -r range perm path; do
	[ -n "$range" ] || continue
	n=$((16#${range#*-} - 16#${range%-*}))
	[ "$perm" = rw-p ] && [ -z "$path" ] && [ $n = 8388608 ] && stack="$stack $range"
	[ -n "$path" ] && others="$others $range $path"
done <<<"$added"
[ -z "$stack" ] && pass no_thread_stack_left || fail no_thread_stack_left "$stack"
[ -z "$others" ] && pass no_mapping_of_the_agent_left || fail no_mapping_of_the_agent_left "$others"
echo "INFO mappings added, all anonymous (glibc's malloc arena of the agent's thread): $(echo "$added" | grep -c .)"

# Later sessions leave nothing more: their threads' stacks are unmapped, and
# glibc gives each new thread the arena the last one left on its free list.
for i in 1 2 3; do
	"$PK" trace -p $tp -d 0.1 'p:w at_work x=$arg1:s64' >/dev/null 2>"$tmp/r.err" || break
done
maps >"$tmp/m2"
if grep -q 'the agent unloaded' "$tmp/r.err" && cmp -s "$tmp/m1" "$tmp/m2"; then
	pass repeated_sessions_add_no_mapping
else
	fail repeated_sessions_add_no_mapping "$(diff "$tmp/m1" "$tmp/m2" | head -5; tail -2 "$tmp/r.err")"
fi
exit $failed
