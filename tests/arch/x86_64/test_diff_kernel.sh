#!/usr/bin/env bash
# The same uprobe definitions through the kernel (tracefs uprobe_events, in an
# instance of our own) and through probekit trace, on the bundled program:
# every event's fields must be equal; timestamps, CPUs, pids and the address
# part aside. Skips (with a message, no PASS) where tracefs uprobes are missing.
set -u
cd "$(dirname "$0")/../../.."
. tests/lib.sh
grp=pkdiff$$
inst=$TR/instances/probekit-diff-$$
cleanup() {
	[ -d "$inst" ] && { echo 0 >"$inst/events/$grp/enable" 2>/dev/null; rmdir "$inst" 2>/dev/null; }
	[ -w $TR/uprobe_events ] && for e in add addr name nameret many comm; do
		echo "-:$grp/$e" >>$TR/uprobe_events 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

uprobes_or_skip "differential test"

A=$(file_offset "$TGT" tt_add) N=$(file_offset "$TGT" tt_name) M=$(file_offset "$TGT" tt_many)

cat >"$tmp/defs" <<DEFS
p:$grp/add $TGT:$A a=%di:s32 b=%si:s32 c=%dx:x32 lo=%di:u8 wide=%si:s64 bf=%di:b4@0/32 h=%dx:x16
r:$grp/addr $TGT:$A ret=%ax:s32 rx=%ax:x16 ru=%ax:u64
p:$grp/name $TGT:$N n=+0(%di):string x=+0(%si):s32 y=+4(%si):u16 l=+0(+8(%si)):string arr=+0(%si):s32[2] ch=+0(%di):char b8=+1(%di):x8
r:$grp/nameret $TGT:$N len=%ax:u64
p:$grp/many $TGT:$M s1=\$stack1:s64 s2=\$stack2:u8 a1=%di:s16 r9=%r9:u32
p:$grp/comm $TGT:$A c=\$comm
DEFS

# The kernel.
echo >$TR/error_log 2>/dev/null
ok=1
while read -r d; do
	echo "$d" >>$TR/uprobe_events || { ok=0; echo "FAIL kernel_accepts_definitions"; tail -3 $TR/error_log | sed 's/^/  /'; }
done <"$tmp/defs"
[ $ok = 1 ] && echo "PASS kernel_accepts_definitions"
mkdir "$inst"
echo 1 >"$inst/events/$grp/enable"
"$TGT" 3 >/dev/null
echo 0 >"$inst/events/$grp/enable"
cat "$inst/trace" >"$tmp/kraw"

# probekit, the same lines.
mapfile -t defs <"$tmp/defs"
"$PK" trace -o "$tmp/praw" "${defs[@]}" -- "$TGT" 3 >/dev/null 2>"$tmp/perr"
rc=$?
[ $rc -eq 0 ] && echo "PASS probekit_accepts_definitions" || {
	echo "FAIL probekit_accepts_definitions"; sed 's/^/  /' "$tmp/perr"; }

# "EVENT: (address part) fields" -> "EVENT fields"
norm() { grep -v '^#' "$1" | sed -E 's/^.*[0-9]+\.[0-9]{6}: ([^:]+): \([^)]*\)/\1/'; }
norm "$tmp/kraw" >"$tmp/k"
norm "$tmp/praw" >"$tmp/p"
n=$(wc -l <"$tmp/k")
if [ "$n" -ge 10 ] && diff -u "$tmp/k" "$tmp/p" >"$tmp/diff"; then
	echo "PASS fields_equal_to_kernel ($n events)"
else
	echo "FAIL fields_equal_to_kernel ($n kernel events)"
	head -40 "$tmp/diff" | sed "s/^/  /"
	exit 1
fi
[ $ok = 1 ] && [ $rc -eq 0 ]
