#!/usr/bin/env bash
# The example modules, end to end: runs build/demo/worker with each module
# of examples/ preloaded and checks what the module prints against what the
# worker did (its stdout, which is deterministic), for the plain build and
# for the ASan+UBSan build (whose modules need the ASan runtime preloaded
# first, since the worker itself is not instrumented).
#
# Prints one "PASS name" or "FAIL name: why" line per check (details of a
# failure on following lines indented by two spaces) and exits non-zero if
# any check failed. Expects `make all` and `make all BUILD=build/asan SAN=1`
# to have run.
set -u
cd "$(dirname "$0")/.." || exit 1

# shellcheck source=tests/lib.sh
. tests/lib.sh

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected '$2', got '$3'"
	fi
}

# expect_file NAME EXPECTED_FILE ACTUAL_FILE: the same bytes.
expect_file() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "stdout differs from the expected one (diff expected actual below)"
		diff "$2" "$3" | detail
	fi
}

# One line per value, joined with spaces, for comparing sequences.
join_lines() { paste -sd' ' -; }

# run TAG RUN BUILD MODULE [VAR=VALUE...]: the worker with MODULE preloaded
# (none if MODULE is "-"); leaves $tmp/TAG.RUN.{out,err,rc}.
run() {
	local tag=$1 name=$2 b=$3 mod=$4 preload=
	shift 4
	if [ "$mod" != - ]; then
		preload="$b/examples/$mod.so"
		[ "$tag" = asan ] && preload="$asan_rt $preload"
	fi
	# LD_LIBRARY_PATH: this build's libprobekit, whatever the caller's environment holds.
	timeout 60 env "$@" LD_LIBRARY_PATH="$b" LD_PRELOAD="$preload" "$b/demo/worker" \
		>"$tmp/$tag.$name.out" 2>"$tmp/$tag.$name.err"
	echo $? >"$tmp/$tag.$name.rc"
}

# Why a run went wrong as a program (not as a tracer), or nothing.
run_trouble() { # TAG RUN
	local f="$tmp/$1.$2" why
	why=$(grep -m1 -E 'error while loading shared libraries|cannot be preloaded|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|init failed' "$f.err")
	if [ -n "$why" ]; then
		echo "$why"
	elif [ "$(cat "$f.rc")" != 0 ]; then
		echo "exit status $(cat "$f.rc")"
	elif ! grep -qx 'worker: done' "$f.out"; then
		echo "the worker did not finish"
	fi
}

# loads TAG RUN MODULE: the module planted its probes and the program ran through.
loads() {
	local why
	why=$(run_trouble "$1" "$2")
	if [ -z "$why" ] && ! grep -q 'Planted .*probe at 0x' "$tmp/$1.$2.err"; then
		why="no 'Planted ... probe at' line"
	fi
	if [ -n "$why" ]; then
		fail "$1/$3/loads" "$why; later $1/$3 checks skipped"
		detail 6 <"$tmp/$1.$2.err"
		return 1
	fi
	pass "$1/$3/loads"
}

check_kprobe_example() { # TAG BUILD
	local t=$1 b=$2 e="$tmp/$1.kprobe.err" planted pre post i
	run "$t" kprobe "$b" kprobe_example
	loads "$t" kprobe kprobe_example || return
	planted=$(sed -n 's/^kprobe_example: Planted probe at \(0x[0-9a-f]*\) .*/\1/p' "$e")
	pre=$(grep -c '^<do_work> pre_handler: ' "$e")
	post=$(grep -c '^<do_work> post_handler: ' "$e")
	expect_eq "$t/kprobe_example/pre_handler_count" "$ncalls" "$pre"
	expect_eq "$t/kprobe_example/post_handler_count" "$ncalls" "$post"
	expect_eq "$t/kprobe_example/arg3" "$want_arg3" \
		"$(sed -n 's/^<do_work> pre_handler: .*, arg3 = \([0-9]*\)$/\1/p' "$e" | join_lines)"
	# Each hit: pre_handler, the probed instruction, then post_handler.
	expect_eq "$t/kprobe_example/pre_then_post" \
		"$(for ((i = 0; i < ncalls; i++)); do echo pre; echo post; done | join_lines)" \
		"$(sed -n 's/^<do_work> \(pre\|post\)_handler: .*/\1/p' "$e" | join_lines)"
	# p->addr and ip both name the probed address, the one init reported.
	expect_eq "$t/kprobe_example/addr_and_ip" "$planted $planted" \
		"$(sed -n 's/^<do_work> pre_handler: p->addr = \(0x[0-9a-f]*\), ip = \([0-9a-f]*\),.*/\1 0x\2/p' "$e" |
			sort -u | join_lines)"
	expect_eq "$t/kprobe_example/summary" "$ncalls pre, $ncalls post hits, nmissed = 0" \
		"$(sed -n 's/^kprobe_example: probe at .* unregistered: //p' "$e")"
	expect_file "$t/kprobe_example/stdout_unchanged" "$tmp/$t.base.out" "$tmp/$t.kprobe.out"

	# An unknown symbol: init fails and says why; the program runs as if nothing was loaded.
	run "$t" nosym "$b" kprobe_example PK_PARAM_symbol=no_such_function_here
	e="$tmp/$t.nosym.err"
	if grep -q 'pk_register_probe(no_such_function_here) failed, returned -2' "$e" &&
		grep -q '^kprobe_example: init failed' "$e" &&
		! grep -q 'Planted\|unregistered' "$e" && [ "$(cat "$tmp/$t.nosym.rc")" = 0 ] &&
		cmp -s "$tmp/$t.base.out" "$tmp/$t.nosym.out"; then
		pass "$t/kprobe_example/unknown_symbol"
	else
		fail "$t/kprobe_example/unknown_symbol" "expected a -ENOENT report and an unaffected run"
		detail 6 <"$e"
	fi
}

check_exec_tracer() { # TAG BUILD
	local t=$1 b=$2 e="$tmp/$1.exec.err" fmt parent child
	run "$t" exec "$b" exec_tracer
	loads "$t" exec exec_tracer || return
	fmt='^\|pid: +[0-9]+ \|comm: +worker \|filename = .*\|$'
	if grep -q '^|pid' "$e" && ! grep '^|pid' "$e" | grep -qvE "$fmt"; then
		pass "$t/exec_tracer/line_format"
	else
		fail "$t/exec_tracer/line_format" "lines not as '|pid: %6d |comm: %10s |filename = %s|'"
		grep '^|pid' "$e" | detail
	fi
	expect_eq "$t/exec_tracer/execve_bin_true" 1 "$(grep -c '|filename = /bin/true|$' "$e")"
	expect_eq "$t/exec_tracer/fopen_etc_hostname" 1 "$(grep -c '|filename = /etc/hostname|$' "$e")"
	expect_eq "$t/exec_tracer/open_argv0" 1 "$(grep -cF "|filename = $b/demo/worker|" "$e")"
	# The worker opens its files itself and execs from a forked child.
	parent=$(sed -n 's/^|pid: *\([0-9]*\) |.*filename = \/etc\/hostname|$/\1/p' "$e")
	child=$(sed -n 's/^|pid: *\([0-9]*\) |.*filename = \/bin\/true|$/\1/p' "$e")
	if [ -n "$parent" ] && [ -n "$child" ] && [ "$parent" != "$child" ]; then
		pass "$t/exec_tracer/execve_in_child"
	else
		fail "$t/exec_tracer/execve_in_child" "opener pid '$parent', execve pid '$child'"
	fi
	expect_file "$t/exec_tracer/stdout_unchanged" "$tmp/$t.base.out" "$tmp/$t.exec.out"
}

check_kretprobe_example() { # TAG BUILD
	local t=$1 b=$2 e="$tmp/$1.kret.err"
	run "$t" kret "$b" kretprobe_example
	loads "$t" kret kretprobe_example || return
	expect_eq "$t/kretprobe_example/return_values" "$want_ret" \
		"$(sed -n 's/^do_work returned \([0-9]*\) and took [0-9]* ns to execute$/\1/p' "$e" |
			join_lines)"
	expect_eq "$t/kretprobe_example/nmissed" 1 \
		"$(grep -c '^kretprobe_example: Missed probing 0 instances of do_work$' "$e")"
	expect_file "$t/kretprobe_example/stdout_unchanged" "$tmp/$t.base.out" "$tmp/$t.kret.out"
}

check_jprobe_example() { # TAG BUILD
	local t=$1 b=$2 e="$tmp/$1.jprobe.err"
	run "$t" jprobe "$b" jprobe_example
	loads "$t" jprobe jprobe_example || return
	# The handler, with do_work's own prototype, sees each call's three arguments.
	expect_eq "$t/jprobe_example/arguments" "$want_args" \
		"$(sed -n 's/^jprobe: a = \([0-9]*\), b = \([0-9]*\), c = \([0-9]*\)$/\1 \2 \3/p' "$e" |
			join_lines)"
	expect_eq "$t/jprobe_example/summary" "$ncalls entries, nmissed = 0" \
		"$(sed -n 's/^jprobe_example: jprobe at 0x[0-9a-f]* unregistered: //p' "$e")"
	# Each function still ran with its arguments and returned its value.
	expect_file "$t/jprobe_example/stdout_unchanged" "$tmp/$t.base.out" "$tmp/$t.jprobe.out"
}

check_uprobe_example() { # TAG BUILD
	local t=$1 b=$2 e off name
	# The file offset of do_work, found by probekit as uprobe_events wants it.
	off=$(build/probekit list -o -x "$b/demo/worker" do_work | awk '$1 == "do_work" { print $2 }')
	if [ -z "$off" ]; then
		fail "$t/uprobe_example/offset" "probekit list -o -x $b/demo/worker printed no offset"
		return
	fi
	pass "$t/uprobe_example/offset"
	ln -sf "$(cd "$b/demo" && pwd)/worker" "$tmp/worker-link"
	for name in self link; do
		e="$tmp/$t.uprobe$name.err"
		if [ $name = self ]; then
			run "$t" uprobe$name "$b" uprobe_example PK_PARAM_offset="$off"
		else
			run "$t" uprobe$name "$b" uprobe_example PK_PARAM_offset="$off" \
				PK_PARAM_filename="$tmp/worker-link"
		fi
		loads "$t" uprobe$name "uprobe_example/$name" || continue
		expect_eq "$t/uprobe_example/$name/arg0_arg1" "$want_args01" \
			"$(sed -n 's/^handler: arg0 = \([0-9]*\) arg1 = \([0-9]*\)$/\1 \2/p' "$e" | join_lines)"
		expect_eq "$t/uprobe_example/$name/ret" "$want_ret" \
			"$(sed -n 's/^ret_handler ret = \([0-9]*\)$/\1/p' "$e" | join_lines)"
		expect_file "$t/uprobe_example/$name/stdout_unchanged" "$tmp/$t.base.out" \
			"$tmp/$t.uprobe$name.out"
	done
	# Without an offset the module refuses to load, as the seed's would fail to register.
	run "$t" uprobenooff "$b" uprobe_example
	if grep -q 'parameter offset is required' "$tmp/$t.uprobenooff.err" &&
		cmp -s "$tmp/$t.base.out" "$tmp/$t.uprobenooff.out"; then
		pass "$t/uprobe_example/offset_required"
	else
		fail "$t/uprobe_example/offset_required" "expected a refusal and an unaffected run"
		detail 6 <"$tmp/$t.uprobenooff.err"
	fi
}

# The baseline's stdout with allocation N failed.
expect_alloc_failure() { # N < baseline > expected
	awk -v n="$1" '
		/^allocations: [0-9]+ of [0-9]+ succeeded$/ {
			print "malloc failed at allocation " n
			print "allocations: " ($2 - 1) " of " $4 " succeeded"
			next
		}
		{ print }'
}

check_fault_inject() { # TAG BUILD
	local t=$1 b=$2 n e run_name
	for n in default 1 "$nallocs"; do
		run_name=fault$n
		e="$tmp/$t.$run_name.err"
		if [ "$n" = default ]; then
			run "$t" "$run_name" "$b" fault_inject
			n=3
		else
			run "$t" "$run_name" "$b" fault_inject PK_PARAM_nth="$n"
		fi
		loads "$t" "$run_name" "fault_inject/nth=$n" || continue
		expect_eq "$t/fault_inject/nth=$n/injected_once" \
			"fault_inject: failing call $n to malloc" \
			"$(grep '^fault_inject: failing call' "$e" | join_lines)"
		expect_alloc_failure "$n" <"$tmp/$t.base.out" >"$tmp/$t.$run_name.want"
		expect_file "$t/fault_inject/nth=$n/worker_reports_failure" \
			"$tmp/$t.$run_name.want" "$tmp/$t.$run_name.out"
		expect_eq "$t/fault_inject/nth=$n/summary" 1 \
			"$(grep -c "^fault_inject: [0-9]* calls to malloc counted, call $n failed, nmissed = 0$" "$e")"
	done

	# A bad parameter is refused at init, as insmod refuses it; nothing is injected.
	run "$t" faultbad "$b" fault_inject PK_PARAM_nth=0
	e="$tmp/$t.faultbad.err"
	if grep -q "bad value for parameter nth: '0'" "$e" && ! grep -q 'failing call' "$e" &&
		[ "$(cat "$tmp/$t.faultbad.rc")" = 0 ] && cmp -s "$tmp/$t.base.out" "$tmp/$t.faultbad.out"; then
		pass "$t/fault_inject/bad_nth_refused"
	else
		fail "$t/fault_inject/bad_nth_refused" "expected the parameter refused and an unaffected run"
		detail 6 <"$e"
	fi
}

check_build() { # TAG BUILD
	local t=$1 b=$2 m missing='' why
	for m in demo/worker examples/kprobe_example.so examples/exec_tracer.so \
		examples/kretprobe_example.so examples/fault_inject.so examples/jprobe_example.so \
		examples/uprobe_example.so; do
		[ -e "$b/$m" ] || missing="$missing $b/$m"
	done
	if [ -n "$missing" ]; then
		fail "$t/built" "missing:$missing (build it first)"
		return
	fi
	pass "$t/built"

	# What the worker does unprobed: the reference for every module's output.
	run "$t" base "$b" -
	why=$(run_trouble "$t" base)
	if [ -n "$why" ]; then
		fail "$t/worker" "$why; later $t checks skipped"
		return
	fi
	pass "$t/worker"
	ncalls=$(grep -cE '^do_work\([0-9]+, [0-9]+, [0-9]+\) = [0-9]+$' "$tmp/$t.base.out")
	want_arg3=$(sed -nE 's/^do_work\([0-9]+, [0-9]+, ([0-9]+)\) = [0-9]+$/\1/p' "$tmp/$t.base.out" |
		join_lines)
	want_args=$(sed -nE 's/^do_work\(([0-9]+), ([0-9]+), ([0-9]+)\) = [0-9]+$/\1 \2 \3/p' \
		"$tmp/$t.base.out" | join_lines)
	want_args01=$(sed -nE 's/^do_work\(([0-9]+), ([0-9]+), [0-9]+\) = [0-9]+$/\1 \2/p' \
		"$tmp/$t.base.out" | join_lines)
	want_ret=$(sed -nE 's/^do_work\([0-9]+, [0-9]+, [0-9]+\) = ([0-9]+)$/\1/p' "$tmp/$t.base.out" |
		join_lines)
	nallocs=$(sed -nE 's/^allocations: ([0-9]+) of \1 succeeded$/\1/p' "$tmp/$t.base.out")
	if [ "$ncalls" -lt 1 ] || [ -z "$nallocs" ] || [ "$nallocs" -lt 3 ]; then
		fail "$t/worker_output" "no do_work lines or no allocation summary to check against"
		detail <"$tmp/$t.base.out"
		return
	fi
	pass "$t/worker_output"
	if cmp -s "$tmp/plain.base.out" "$tmp/$t.base.out"; then
		[ "$t" = plain ] || pass "$t/worker_output_same_as_plain"
	else
		fail "$t/worker_output_same_as_plain" "the two builds' workers print differently"
	fi

	# One check for what would fail every module the same way: the loader.
	run "$t" ld "$b" kprobe_example
	why=$(grep -m1 -E 'error while loading shared libraries|cannot be preloaded' "$tmp/$t.ld.err")
	if [ -n "$why" ]; then
		fail "$t/modules_load" "$why (the modules need $(objdump -p "$b/examples/kprobe_example.so" |
			awk '/NEEDED.*probekit/ { print $2 }'), looked up through their RUNPATH \$ORIGIN/.. = $b/); later $t checks skipped"
		stat -c "%N" "$b"/libprobekit* 2>&1 | detail
		return
	fi
	pass "$t/modules_load"

	check_kprobe_example "$t" "$b"
	check_exec_tracer "$t" "$b"
	check_kretprobe_example "$t" "$b"
	check_fault_inject "$t" "$b"
	check_jprobe_example "$t" "$b"
	check_uprobe_example "$t" "$b"
}

check_build plain build

# The sanitizer build's modules link the ASan runtime, which must be the
# first object in the process: the uninstrumented worker gets it preloaded.
asan_rt=$(gcc -print-file-name=libasan.so 2>/dev/null)
if [ "${asan_rt#/}" = "$asan_rt" ] || [ ! -e "$asan_rt" ]; then
	echo "NOTE asan checks not run: gcc has no libasan.so to preload"
else
	check_build asan build/asan
fi

exit $failed
