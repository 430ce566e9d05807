#!/usr/bin/env bash
# The compiler matrix: every instruction form gcc and clang emit must be
# relocated or emulated. tests/arch/x86_64/corpus/corpus.c is built as a shared object by
# each compiler at -O0..-O3 in each variant below, and tests/arch/x86_64/corpus/driver.c
# (linked against build/libprobekit.a) probes every instruction boundary of
# every function in it at once and checks the checksum, the hit counts and
# the code after unregistering (see driver.c). One extra run links the driver
# against the ASan+UBSan library.
#
# Prints one "PASS name" or "FAIL name: why" line per object, per instruction
# form (seen and executed under probes somewhere in the matrix) and for the
# ASan run, then the per-object table and the totals. Exits non-zero if any
# check failed. Expects `make all` and `make all BUILD=build/asan SAN=1`.
# PK_JOBS sets how many objects are built and probed at once (default: CPUs).
set -u
cd "$(dirname "$0")/../../.." || exit 1

# shellcheck source=tests/lib.sh
. tests/lib.sh
now() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/,/.}"; else date +%s.%N; fi; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Variant flags, common to both compilers. avx2 also asks for vectorisation
# at -O1 and, from gcc, TLS descriptors (clang 14 has no -mtls-dialect).
variants="pic hardened avx2"
declare -A vflags=(
	[pic]="-fPIC"
	[hardened]="-fPIC -fcf-protection=full -fstack-protector-strong -fstack-clash-protection -fno-plt"
	[avx2]="-fPIC -march=x86-64-v3"
	[avx512]="-fPIC -march=x86-64-v4"
)
extra_flags() { # CC VARIANT
	case "$1/$2" in
	gcc/avx2) echo "-ftree-vectorize -mtls-dialect=gnu2" ;;
	clang/avx2) echo "-fvectorize -fslp-vectorize" ;;
	esac
}
cpu_has() { # FLAG...
	local f
	for f; do
		grep -qw "$f" /proc/cpuinfo || return 1
	done
}

# Objects whose every hit count is also checked against a single-stepping
# tracer: exact, but a few seconds each, so not the whole matrix.
oracle_combos="gcc/-O2/hardened gcc/-O3/avx512 clang/-O0/pic clang/-O3/avx2"

# The forms that must have run under a probe somewhere in the matrix.
required_forms="lock rep-string fs gs fs-canary rip-rel rip-rel+imm sse vex ymm x87 tls-call endbr64
	notrack cmpxchg16b jmp-ind call-ind call jmp jcc ret"

DRV_FLAGS="-std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Iinclude -Isrc -Isrc/arch/x86_64
	-Itests -fno-pie -no-pie -rdynamic"
DRV_LIBS="-lZydis -lelf -ldl -lpthread -lm"
SAN_FLAGS=("-fsanitize=address,undefined" -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

build_driver() { # NAME LIBRARY OUTPUT [FLAGS...]
	local name=$1 lib=$2 out=$3
	shift 3
	if [ ! -f "$lib" ]; then
		fail "$name" "$lib missing (build it first)"
		return 1
	fi
	# shellcheck disable=SC2086
	if ! gcc $DRV_FLAGS "$@" -o "$out" tests/arch/x86_64/corpus/driver.c "$lib" $DRV_LIBS \
		>"$tmp/$name.build" 2>&1; then
		fail "$name" "the driver does not build"
		detail <"$tmp/$name.build"
		return 1
	fi
}

# Build and probe one object; leaves $tmp/ID.{out,rc,ctime,ptime}.
run_combo() { # ID CC LEVEL VARIANT
	local id=$1 cc=$2 level=$3 v=$4 t0 t1 t2 oracle=()
	[[ " $oracle_combos " == *" $cc/$level/$v "* ]] && oracle=(--oracle)
	t0=$(now)
	# shellcheck disable=SC2046,SC2086
	if ! "$cc" "$level" ${vflags[$v]} $(extra_flags "$cc" "$v") -shared -o "$tmp/$id.so" \
		tests/arch/x86_64/corpus/corpus.c -lm >"$tmp/$id.out" 2>&1; then
		echo compile >"$tmp/$id.rc"
		return
	fi
	t1=$(now)
	timeout 60 "$tmp/driver" "${oracle[@]}" "$tmp/$id.so" >"$tmp/$id.out" 2>&1
	echo $? >"$tmp/$id.rc"
	t2=$(now)
	elapsed "$t0" "$t1" >"$tmp/$id.ctime"
	elapsed "$t1" "$t2" >"$tmp/$id.ptime"
}

start=$(now)
build_driver driver_build build/libprobekit.a "$tmp/driver" || exit 1

combos=()
for cc in gcc clang; do
	if ! command -v "$cc" >/dev/null; then
		echo "SKIP $cc: not installed"
		continue
	fi
	for level in -O0 -O1 -O2 -O3; do
		for v in $variants; do
			combos+=("$cc $level $v")
		done
	done
	# EVEX only where the CPU can run it, and once per compiler.
	if cpu_has avx512f avx512bw avx512cd avx512dq avx512vl; then
		combos+=("$cc -O3 avx512")
	else
		echo "SKIP $cc/-O3/avx512: the CPU has no AVX-512"
	fi
done
if ! cpu_has avx2 bmi1 bmi2 fma movbe; then
	echo "SKIP */avx2: the CPU is not x86-64-v3"
	for i in "${!combos[@]}"; do
		case "${combos[$i]}" in *avx2) unset 'combos[i]' ;; esac
	done
fi

jobs_max=${PK_JOBS:-$(nproc)}
# The slow oracle runs first, so that the rest fills in around them.
queue=()
for c in "${combos[@]}"; do
	[[ " $oracle_combos " == *" ${c// //} "* ]] && queue+=("$c")
done
for c in "${combos[@]}"; do
	[[ " $oracle_combos " == *" ${c// //} "* ]] || queue+=("$c")
done
for c in "${queue[@]}"; do
	read -r cc level v <<<"$c"
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
		wait -n
	done
	# The shell's own "Segmentation fault" notices would only repeat the FAIL lines.
	run_combo "$cc$level-$v" "$cc" "$level" "$v" 2>/dev/null &
done
wait

declare -A form_seen form_run
table=()
tot_b=0 tot_r=0 tot_h=0
for c in "${combos[@]}"; do
	read -r cc level v <<<"$c"
	id="$cc$level-$v" name="$cc/$level/$v" out="$tmp/$cc$level-$v.out"
	rc=$(cat "$tmp/$id.rc" 2>/dev/null || echo none)
	if [ "$rc" = compile ]; then
		fail "$name" "corpus.c does not compile: $cc $level ${vflags[$v]} $(extra_flags "$cc" "$v")"
		detail <"$out"
		continue
	fi
	line=$(grep -m1 '^boundaries ' "$out")
	read -r _ b _ r reasons <<<"$line"
	hits=$(sed -n 's/^hits //p' "$out")
	steps=$(sed -n 's/^oracle stepped \([0-9]*\) .*/\1/p' "$out")
	ctime=$(cat "$tmp/$id.ctime" 2>/dev/null) ptime=$(cat "$tmp/$id.ptime" 2>/dev/null)
	table+=("$(printf '%-6s %-4s %-9s %11s %8s %-28s %9s %7s %7s' "$cc" "$level" "$v" \
		"${b:--}" "${r:--}" "${reasons:--}" "${hits:--}" "${ctime}s" "${ptime}s")")
	while read -r _ f s e; do
		form_seen[$f]=$((${form_seen[$f]:-0} + s))
		form_run[$f]=$((${form_run[$f]:-0} + e))
	done < <(grep '^form ' "$out")
	if ! [[ $rc =~ ^[0-9]+$ ]]; then
		fail "$name" "the combination did not run to the end"
	elif [ "$rc" -gt 128 ]; then
		fail "$name" "the driver died of signal $((rc - 128))"
	elif [ "$rc" = 124 ]; then
		fail "$name" "the driver timed out"
	elif [ -n "$line" ] && [ $((r * 100)) -gt "$b" ]; then
		fail "$name" "$r of $b boundaries refused, over 1%"
	elif [ "$rc" -ne 0 ] || ! grep -q '^PASS compilers_corpus$' "$out" || [ -z "$line" ]; then
		fail "$name" "the driver's checks failed (exit status $rc)"
	else
		suffix=${steps:+, every count as a single-step trace of $steps steps saw}
		pass "$name: boundaries $b refused $r${reasons:+ $reasons}, $hits hits$suffix"
		grep -E '^  (refused|undecodable) ' "$out" | detail 20
		tot_b=$((tot_b + b)) tot_r=$((tot_r + r)) tot_h=$((tot_h + hits))
		continue
	fi
	grep -vE '^(form|functions|hits|PASS|FAIL) ' "$out" | detail 24
	[ -n "$b" ] && tot_b=$((tot_b + b)) tot_r=$((tot_r + r)) tot_h=$((tot_h + ${hits:-0}))
done

# Proof that the matrix exercised what the issue lists: each form ran under a probe.
for f in $required_forms $(for c in "${combos[@]}"; do [[ $c == *avx512 ]] && echo evex; done |
	sort -u); do
	s=${form_seen[$f]:-0} e=${form_run[$f]:-0}
	if [ "$e" -gt 0 ]; then
		pass "coverage/$f: $s boundaries, $e of them hit while probed"
	else
		fail "coverage/$f" "$s boundaries in the matrix, none hit while probed"
	fi
done

# The sanitizer build of the library, on one object.
asan_obj="$tmp/gcc-O2-hardened.so"
if [ ! -f "$asan_obj" ]; then
	asan_obj=$(find "$tmp" -name '*.so' | head -1)
fi
if [ -z "$asan_obj" ]; then
	fail asan "no object was built to run it on"
elif build_driver asan_build build/asan/libprobekit.a "$tmp/driver-asan" "${SAN_FLAGS[@]}"; then
	name="asan/$(basename "$asan_obj" .so)"
	timeout 120 "$tmp/driver-asan" "$asan_obj" >"$tmp/asan.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q '^PASS compilers_corpus$' "$tmp/asan.out" &&
		! grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$tmp/asan.out"; then
		pass "$name: $(grep -m1 '^boundaries ' "$tmp/asan.out")"
	else
		fail "$name" "exit status $rc"
		grep -vE '^(form|functions|hits) ' "$tmp/asan.out" | detail 24
	fi
fi

echo
printf '  %-6s %-4s %-9s %11s %8s %-28s %9s %7s %7s\n' compiler level variant boundaries \
	refused reasons hits compile probe
for row in "${table[@]}"; do
	echo "  $row"
done
echo "  total: ${#combos[@]} objects, $tot_b boundaries, $tot_r refused, $tot_h hits," \
	"$(elapsed "$start" "$(now)")s"
exit $failed
