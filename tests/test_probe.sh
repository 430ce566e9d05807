#!/usr/bin/env bash
# Probes by source (probekit probe, probekit trace -x BIN --probe DEF) on
# tests/probe/prog.c built at -O0 and -O2: golden -L, -V, -F and -a outputs;
# the refusals; debug information found through .gnu_debuglink, build-id and
# --debug-file; every inlined copy of a static inline function hit with its
# own arguments; and a differential against Debian's perf probe: perf's
# definitions run by the kernel (uprobe_events, an instance of our own) and
# probekit's by probekit trace on the same program must see the same values.
# PK_UPDATE_GOLDEN=1 rewrites the golden files.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
ROOT=$(pwd)
G=tests/probe/golden
SRC=$ROOT/tests/probe/prog.c
grp=pkprobe$$
inst=$TR/instances/probekit-probe-$$
bid_file=
cleanup() {
	[ -d "$inst" ] && rmdir "$inst" 2>/dev/null
	command -v perf >/dev/null && perf probe -q -d "$grp:*" >/dev/null 2>&1
	[ -w $TR/uprobe_events ] && grep -oE "^[pr]:${grp}p/[^ ]+" $TR/uprobe_events |
		sed 's/^[pr]/-/' >>$TR/uprobe_events 2>/dev/null
	[ -n "$bid_file" ] && rm -f "$bid_file"
	rm -rf "$tmp"
}
trap cleanup EXIT

gcc -O0 -g "$SRC" -o "$tmp/prog0" && gcc -O2 -g "$SRC" -o "$tmp/prog2" &&
	gcc -O2 "$SRC" -o "$tmp/nodebug" || { fail build "gcc"; exit 1; }
norm() { sed -e "s|$tmp/||g" -e "s|$ROOT/||g"; }

golden() { # NAME BIN ARGS...
	local name=$1 bin=$2
	shift 2
	"$PK" probe -x "$tmp/$bin" "$@" 2>&1 | norm >"$tmp/out"
	if [ "${PK_UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$tmp/out" "$G/$name"
	fi
	if diff -u "$G/$name" "$tmp/out" >"$tmp/diff"; then
		pass "golden_$name"
	else
		fail "golden_$name" "output differs"
		detail 30 <"$tmp/diff"
	fi
}

golden L_callee prog0 -L callee
golden L_range prog0 -L prog.c:36-42
golden V_callee_line prog0 -V callee:4
golden V_scale_O2 prog2 -V scale
golden F prog0 -F
golden A_O0 prog0 'callee a p->name:string p->vals[2] s:string p->next->id' \
	'callee%return $retval' 'scale v k' 'shifted $vars' 'prog.c:40 sum'
golden A_O2 prog2 'callee a p->name:string p->vals[2] s:string p->next->id' \
	'callee%return $retval' 'scale v k' 'shifted $vars' 'callee:4 i'

refuses() { # NAME EXPECTED-TEXT probekit-probe-args...
	local name=$1 want=$2
	shift 2
	if "$PK" probe -q "$@" >"$tmp/out" 2>"$tmp/err"; then
		fail "refuses_$name" "exit 0"
	elif [ -s "$tmp/out" ]; then
		fail "refuses_$name" "printed definitions"
	elif ! grep -qF -- "$want" "$tmp/err"; then
		fail "refuses_$name" "message lacks '$want'"
		detail <"$tmp/err"
	else
		pass "refuses_$name"
	fi
}
refuses computed_value "'b' is not stored anywhere at shifted+0: its value is computed (DW_OP_breg5 1; DW_OP_stack_value)" \
	-x "$tmp/prog2" 'shifted b'
refuses optimized_out "'rounds' is optimized out at main+0" -x "$tmp/prog2" 'main rounds'
refuses out_of_scope "no variable 'i' in scope in callee" -x "$tmp/prog2" 'callee:4 i'
refuses struct_value "'first' (struct item) has no fetch type" -x "$tmp/prog0" 'main first'
refuses no_debug_info "nodebug has no debug information" -x "$tmp/nodebug" callee
refuses no_function "no function 'nosuch'" -x "$tmp/prog0" nosuch
refuses local_on_return "no local variable on a return probe" -x "$tmp/prog0" 'callee%return a'
refuses inlined_return "scale is inlined everywhere (3 copies)" -x "$tmp/prog2" 'scale%return'
refuses not_pointer "'->id' on something that is not a pointer" -x "$tmp/prog0" 'main first->id'
refuses bad_syntax "only FUNC%return" -x "$tmp/prog0" 'callee%exit'

# Separate debug information: .gnu_debuglink, /usr/lib/debug/.build-id, --debug-file.
"$PK" probe -q -x "$tmp/prog0" 'callee a p->name:string' | norm >"$tmp/want"
objcopy --only-keep-debug "$tmp/prog0" "$tmp/prog0.debug"
objcopy --strip-debug --add-gnu-debuglink="$tmp/prog0.debug" "$tmp/prog0" "$tmp/linked"
objcopy --strip-debug "$tmp/prog0" "$tmp/stripped"
for how in linked "stripped --debug-file $tmp/prog0.debug"; do
	set -- $how
	bin=$1
	shift
	"$PK" probe -q -x "$tmp/$bin" "$@" 'callee a p->name:string' 2>"$tmp/err" | norm |
		sed "s| $bin:| prog0:|; s|_$bin/|_prog0/|" >"$tmp/got"
	if [ -s "$tmp/want" ] && diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		pass "debuginfo_$bin"
	else
		fail "debuginfo_$bin" "definitions differ from the unstripped file's"
		detail <"$tmp/diff"
		detail <"$tmp/err"
	fi
done
refuses stripped_says_where "looked for a separate file in" -x "$tmp/stripped" callee
bid=$(readelf -n "$tmp/stripped" | awk '/Build ID/ {print $3}')
if [ -n "$bid" ] && mkdir -p "/usr/lib/debug/.build-id/${bid:0:2}" 2>/dev/null; then
	bid_file=/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug
	cp "$tmp/prog0.debug" "$bid_file"
	"$PK" probe -q -x "$tmp/stripped" 'callee a p->name:string' 2>"$tmp/err" | norm |
		sed "s| stripped:| prog0:|; s|_stripped/|_prog0/|" >"$tmp/got"
	if diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"; then
		pass debuginfo_build_id
	else
		fail debuginfo_build_id "definitions differ"
		detail <"$tmp/diff"
		detail <"$tmp/err"
	fi
	rm -f "$bid_file"
	bid_file=
fi

# Every inlined copy of scale() (three calls) with its own arguments, mixed
# with an ordinary definition and a return probe, at -O0 and -O2.
for o in 0 2; do
	"$PK" trace -x "$tmp/prog$o" --probe 'scale v k' --probe 'callee%return $retval' \
		"p:plain $tmp/prog$o:callee" --probe 'sink v total' -- "$tmp/prog$o" >"$tmp/tr" 2>"$tmp/err"
	# A global by name, as uprobe_events' @+OFFSET (perf writes @total+0, which uprobes refuse).
	got=$(sed -nE 's/^.* sink: \([^)]*\) //p' "$tmp/tr" | tr '\n' ';')
	if [ "$got" = "v=256 total=0;v=303 total=256;v=2795 total=559;v=3485 total=3354;" ]; then
		pass "global_variable_O$o"
	else
		fail "global_variable_O$o" "got '$got'"
	fi
	got=$(sed -nE 's/^.*: (scale[_0-9]*): \([^)]*\) /\1 /p' "$tmp/tr" | tr '\n' ';')
	want="scale v=128 k=2;scale_1 v=101 k=3;scale_2 v=559 k=5;"
	if [ "$got" = "$want" ] && [ "$(grep -c ' callee__return: .*arg1=' "$tmp/tr")" = 2 ] &&
		[ "$(grep -c ' plain: ' "$tmp/tr")" = 2 ]; then
		pass "inlined_copies_O$o"
	else
		fail "inlined_copies_O$o" "got '$got'"
		detail <"$tmp/tr"
		detail <"$tmp/err"
	fi
done

# The differential against perf probe: perf's definitions (perf probe -x,
# group $grp, events eN) and probekit's (group ${grp}p, events qN, qN_1...)
# both in the kernel's uprobe_events, traced on the same run; each probe
# address must see the same values from both.
if ! command -v perf >/dev/null; then
	echo "SKIP perf differential: no perf (Debian's linux-perf)"
	exit $failed
fi
[ -e $TR/uprobe_events ] || mount -t tracefs nodev $TR 2>/dev/null
if [ ! -w $TR/uprobe_events ]; then
	echo "SKIP perf differential: no writable $TR/uprobe_events"
	exit $failed
fi
# The same inlined copies through the kernel's uprobes (trace --kernel --probe).
"$PK" trace --kernel -x "$tmp/prog2" --probe 'scale v k' -- "$tmp/prog2" >"$tmp/tr" 2>"$tmp/err"
got=$(sed -nE 's/^.*: (scale[_0-9]*): \([^)]*\) /\1 /p' "$tmp/tr" | tr '\n' ';')
if [ "$got" = "scale v=128 k=2;scale_1 v=101 k=3;scale_2 v=559 k=5;" ]; then
	pass inlined_copies_kernel
else
	fail inlined_copies_kernel "got '$got'"
	detail <"$tmp/err"
fi
corpus=(
	'callee a p->name:string p->vals[2] s:string p->next->id'
	'callee%return $retval'
	'callee:4 sum i'
	'prog.c:40 sum'
	'callee;*printf*'
	'callee $params'
	'shifted $vars'
	'scale v'
	'sink v total'
)
mkdir "$inst"
# A definition's text as the kernel lists it, for both sides alike.
canon() { sed -E -e 's/:0x0*([0-9a-f]+)/:0x\1/' -e 's/ arg[0-9]+=/ /g' -e 's/^([pr]):[^ ]+/\1/' | tr -s ' ' | sort; }
for o in 0 2; do
	bin=$tmp/prog$o
	perf probe -q -d "$grp:*" >/dev/null 2>&1
	n=0
	for d in "${corpus[@]}"; do
		n=$((n + 1))
		ours=$("$PK" probe -q -x "$bin" "${grp}p:q$n=$d" 2>&1)
		ours_rc=$?
		if ! perf probe -x "$bin" -a "$grp:e$n=$d" >"$tmp/perr" 2>&1; then
			echo "  O$o '$d': perf refused: $(tr '\n' ' ' <"$tmp/perr" | cut -c1-160)"
			echo "$ours" | sed 's/^/    probekit: /'
			continue
		fi
		theirs=$(grep -E "^[pr]:$grp/e$n(_|\$| )" $TR/uprobe_events)
		if [ $ours_rc != 0 ]; then
			fail "perf_O${o}_e$n" "probekit refused what perf derived: $ours"
			echo "$theirs" | sed 's/^/    perf:     /'
			continue
		fi
		echo "$ours" >>$TR/uprobe_events 2>"$tmp/werr" ||
			{ fail "perf_O${o}_q$n" "the kernel refused probekit's definitions"; detail <"$tmp/werr"; }
		if [ "$(echo "$ours" | canon)" = "$(echo "$theirs" | canon)" ]; then
			echo "  O$o '$d': the same definitions as perf"
		else
			echo "  O$o '$d': definitions differ"
			echo "$theirs" | sed 's/^/    perf:     /'
			echo "$ours" | sed 's/^/    probekit: /'
		fi
	done
	echo >"$inst/trace"
	for g in "$grp" "${grp}p"; do echo 1 >"$inst/events/$g/enable"; done
	"$bin" 2 >/dev/null
	for g in "$grp" "${grp}p"; do echo 0 >"$inst/events/$g/enable"; done
	cat "$inst/trace" >"$tmp/kraw"
	perf probe -q -d "$grp:*" >/dev/null 2>&1
	grep -oE "^[pr]:${grp}p/[^ ]+" $TR/uprobe_events | sed 's/^[pr]/-/' >>$TR/uprobe_events
	python3 - "$tmp/kraw" "O$o" <<'PY' || failed=1
import re, sys
seen = {}
for line in open(sys.argv[1]):
    m = re.match(r'^.*\d+\.\d{6}: ([eq])(\d+)(?:_\d+)?(__return)?: \(([^)]*)\)\s?(.*)$', line)
    if m:
        side, n, ret, where, rest = m.groups()
        fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', rest))
        seen.setdefault((int(n), where), {}).setdefault(side, []).append(fields)
tag, ok, probes, k = sys.argv[2], True, 0, {}
for (n, where), sides in sorted(seen.items()):
    e, q = sides.get('e', []), sides.get('q', [])
    if not e:
        continue
    probes += 1
    k[n] = k.get(n, 0) + 1
    bad = len(e) != len(q)
    only = set()
    for a, b in zip(e, q):
        bad |= any(a[f] != b[f] for f in set(a) & set(b))
        only |= set(a) ^ set(b)
    if only:
        print(f"  {tag} e{n} at {where}: fields of one side only {sorted(only)}: perf {e[0]}, probekit {q[0] if q else None}")
    print(f"{'FAIL' if bad else 'PASS'} perf_{tag}_e{n}_{k[n]}: {len(e)} hits at {where} of perf's, {len(q)} of probekit's" +
          (f": perf {e[:2]} probekit {q[:2]}" if bad else ""))
    ok &= not bad
if probes < 6:
    print(f"FAIL perf_{tag}_probes: only {probes} of perf's probes were hit")
    ok = False
sys.exit(0 if ok else 1)
PY
done
exit $failed
