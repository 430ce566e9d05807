#!/bin/bash
# Issue 10 items 1 and 4: options and definitions in any order before "--"
# (a word is a definition only if it is one: "-:EVENT" is a deletion, "-o"
# an option), and deletions as the kernel's: "-:EVENT" without a group
# removes that event whatever its group, "-:nosuch" is ENOENT.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

# 1. The issue's command: a definition, then -o, then the command.
"$PK" trace 'p:x libc.so.6:malloc' -o "$tmp/x" -- /bin/true 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ -f "$tmp/x" ] && grep -q '^probekit/x ' "$tmp/err" && pass options_after_definition ||
	fail options_after_definition "rc=$rc: $(head -3 "$tmp/err")"

# Options between definitions, each definition still one.
"$PK" trace 'p:add tt_add a=$arg1:s32' --format json -o "$tmp/j" 'p:nm tt_name' -d 30 \
	--filter 'add: a > 0' -- "$TGT" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ "$(grep -c '"event":"add"' "$tmp/j")" = 1 ] &&
	[ "$(grep -c '"event":"nm"' "$tmp/j")" = 2 ]; then
	pass options_between_definitions
else
	fail options_between_definitions "rc=$rc: $(cat "$tmp/j" "$tmp/err" | head -5)"
fi
# A bad option is still one, named.
"$PK" trace 'p:x libc.so.6:malloc' --nosuch-option -- /bin/true >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 2 ] && grep -q "unrecognized option '--nosuch-option'" "$tmp/err" && pass bad_option_named ||
	fail bad_option_named "rc=$rc: $(head -2 "$tmp/err")"
# list: GLOB and -x either way round, and --help.
a=$("$PK" list 'tt_*' -x "$TGT")
b=$("$PK" list -x "$TGT" 'tt_*')
[ -n "$a" ] && [ "$a" = "$b" ] && pass list_any_order || fail list_any_order "'$a' vs '$b'"
"$PK" list --help >"$tmp/h" 2>&1 && grep -q '^usage: probekit list' "$tmp/h" && pass list_help ||
	fail list_help "$(head -2 "$tmp/h")"

# 4. Deletion without a group removes the event; the others stay.
"$PK" trace 'p:foo tt_add' 'p:bar tt_name' '-:foo' -- "$TGT" >"$tmp/d" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && ! grep -q ': foo: ' "$tmp/d" && [ "$(grep -c ': bar: ' "$tmp/d")" = 2 ] &&
	! grep -q '^probekit/foo' "$tmp/err"; then
	pass delete_without_group
else
	fail delete_without_group "rc=$rc: $(cat "$tmp/d" "$tmp/err" | head -5)"
fi
"$PK" trace 'p:mine/foo tt_add' '-:mine/foo' 'p:bar tt_name' -- "$TGT" >"$tmp/d" 2>"$tmp/err"
[ $? = 0 ] && ! grep -q ': foo: ' "$tmp/d" && pass delete_with_group ||
	fail delete_with_group "$(cat "$tmp/err")"
[ -e $TR/uprobe_events ] || mount -t tracefs nodev $TR 2>/dev/null
if [ -w $TR/uprobe_events ]; then
	"$PK" trace --kernel "p:foo $TGT:tt_add" "p:bar $TGT:tt_name" '-:foo' -- "$TGT" >"$tmp/d" 2>"$tmp/err"
	rc=$?
	if [ $rc = 0 ] && ! grep -q ': foo: ' "$tmp/d" && [ "$(grep -c ': bar: ' "$tmp/d")" = 2 ]
	then pass delete_without_group_kernel
	else fail delete_without_group_kernel "rc=$rc: $(cat "$tmp/d" "$tmp/err" | head -5)"; fi
else
	echo "SKIP delete_without_group_kernel: no writable $TR/uprobe_events"
fi
for k in "" --kernel; do
	# shellcheck disable=SC2086
	"$PK" trace $k "p:foo $TGT:tt_add" '-:nosuch' -- /bin/true >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc = 2 ] && grep -q "'-:nosuch': no such event (No such file or directory)" "$tmp/err"
	then pass "delete_nosuch_enoent${k:+_kernel}"
	else fail "delete_nosuch_enoent${k:+_kernel}" "rc=$rc: $(head -3 "$tmp/err")"; fi
done
exit $failed
