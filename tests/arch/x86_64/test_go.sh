#!/bin/bash
# Issue 10 item 8: Go programs, built here with Debian's golang. With cgo
# (runtime/cgo starts the threads): entry probes on Go's own symbols
# (main.add), arguments in Go's register ABI (ax bx cx di si r8-r11), and
# return probes taken at the ret instructions (no return-address swap:
# Go copies goroutine stacks and checks every return address on them),
# across goroutine stack growth and runtime.GC(), counts and values exact
# and the program's output unchanged. Without cgo (the runtime's own
# threads): refused before anything runs, and traced by the kernel's
# uprobes instead. --ret-insn on a C program: the same returns as the swap.
cd "$(dirname "$0")/../../.." || exit 1
. tests/lib.sh
if ! command -v go >/dev/null; then
	echo "SKIP go: no go command (scripts/deps.sh installs golang-go)"
	exit 0
fi
GOCACHE=$(realpath -m "$B/go-cache")
export GOCACHE GOPATH=$tmp/gopath GOFLAGS=-mod=mod GOPROXY=off HOME=$tmp
mkdir -p "$GOCACHE"
cd "$tmp" || exit 1
cat >go.mod <<'GO'
module gotarget

go 1.19
GO
cat >main.go <<'GO'
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
	"unsafe"
)

//go:noinline
func add(a, b int) int { return a + b }

//go:noinline
func mix(a, b, c, d, e, f, g, h, i int) int {
	return a + b*2 + c*3 + d*4 + e*5 + f*6 + g*7 + h*8 + i*9
}

// 280-byte frames: 200 calls deep outgrow a new goroutine's stack.
//go:noinline
func deep(n int) int {
	var buf [256]byte
	buf[n%256] = byte(n)
	if n == 0 {
		return add(int(buf[0]), 1)
	}
	return deep(n-1) + int(buf[n%256]&0)
}

var cgoCheck = func(x int) int { return 2 * x }

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	s, moved := 0, 0
	for t := time.Now(); len(os.Args) > 2 && time.Since(t) < 2*time.Second; {
		s += add(1, 2) // for a look at the probed bytes while it runs
	}
	if cgoCheck(21) != 42 {
		panic("cgo")
	}
	for i := 0; i < n; i++ {
		s += add(i, 7)
		if i%100 == 0 {
			s += mix(1, 2, 3, 4, 5, 6, 7, 8, 9)
			done := make(chan int)
			go func(k int) {
				var x int
				before := uintptr(unsafe.Pointer(&x))
				r := deep(k)
				if uintptr(unsafe.Pointer(&x)) != before {
					r += 1 << 20 // the stack was copied while deep ran
				}
				done <- r + x
			}(200)
			r := <-done
			moved += r >> 20
			s += r & (1<<20 - 1)
			runtime.GC()
		}
	}
	fmt.Println(s, "moved", moved)
}
GO
cat >c.go <<'GO'
//go:build cgo

package main

// static int twice(int x) { return 2 * x; }
import "C"

func init() { cgoCheck = func(x int) int { return int(C.twice(C.int(x))) } }
GO
CGO_ENABLED=1 go build -o gocgo . 2>build.err || fail go_build_cgo "$(cat build.err)"
CGO_ENABLED=0 go build -ldflags=-linkmode=external -o gonocgo . 2>build.err
[ -x gonocgo ] || fail go_build_nocgo "$(cat build.err)"
[ $failed = 0 ] || exit 1

N=1000
# 10 goroutines, each 201 calls of deep and one of add; main calls add N times.
./gocgo $N >plain.txt
grep -q ' moved 10$' plain.txt && pass go_stack_grows_in_deep ||
	fail go_stack_grows_in_deep "$(cat plain.txt)"
"$PK" trace 'p:a main.add a=%ax:s64 b=%bx:s64' 'r:ra main.add ret=$retval:s64' \
	'r:rd main.deep ret=$retval:s64' \
	'p:m main.mix a=%ax b=%bx c=%cx d=%di e=%si f=%r8 g=%r9 h=%r10 i=%r11' \
	-o trace.txt -- ./gocgo $N >prog.txt 2>err.txt
rc=$?
hits() { awk -v e="probekit/$1" '$1 == e {print $2}' err.txt; }
if [ $rc = 0 ] && cmp -s plain.txt prog.txt; then pass go_cgo_runs_unchanged; else
	fail go_cgo_runs_unchanged "rc=$rc: $(head -5 prog.txt err.txt)"
fi
# main.add(i, 7) for i < N: a sums to N(N-1)/2; the ten deep ends call add(0, 1).
read -r n7 sum7 n1 <<<"$(awk '/ a: \(main.add\+0x0\// {
	if ($NF == "b=7") { n7++; sub("a=", "", $(NF-1)); s += $(NF-1) } else if ($NF == "b=1") n1++ }
	END {print n7+0, s+0, n1+0}' trace.txt)"
if [ "$(hits a)" = $((N + 10)) ] && [ "$n7" = $N ] && [ "$sum7" = $((N * (N - 1) / 2)) ] &&
	[ "$n1" = 10 ]; then pass go_entry_args_in_go_registers; else
	fail go_entry_args_in_go_registers "hits=$(hits a) b=7:$n7 sum=$sum7 b=1:$n1"
fi
if [ "$(hits m)" = 10 ] && [ "$(grep -c ' m: (main.mix+0x0/0x[0-9a-f]*) a=0x1 b=0x2 c=0x3 d=0x4 e=0x5 f=0x6 g=0x7 h=0x8 i=0x9$' trace.txt)" = 10 ]
then pass go_nine_register_arguments; else
	fail go_nine_register_arguments "$(grep -m2 ' m: ' trace.txt)"
fi
# Return values: add(i, 7) returns i + 7 to main.main; add(0, 1) returns 1 to deep.
read -r rm rsum rdp <<<"$(awk '/ ra: \(main.main\+/ {n++; sub("ret=", "", $NF); s += $NF}
	/ ra: \(main.deep\+.* ret=1$/ {d++} END {print n+0, s+0, d+0}' trace.txt)"
if [ "$(hits ra)" = $((N + 10)) ] && [ "$rm" = $N ] && [ "$rsum" = $((N * (N - 1) / 2 + 7 * N)) ] &&
	[ "$rdp" = 10 ]; then pass go_ret_insn_return_values; else
	fail go_ret_insn_return_values "hits=$(hits ra) main:$rm sum=$rsum deep:$rdp"
fi
# deep returns 1 at every level, 201 levels in each of 10 goroutines whose stacks were copied.
if [ "$(hits rd)" = 2010 ] && [ "$(grep -c ' rd: (main.deep+0x[0-9a-f]*/0x[0-9a-f]* <- main.deep) ret=1$' trace.txt)" = 2000 ] &&
	[ "$(grep -c ' rd: (main.main.func1+0x[0-9a-f]*/0x[0-9a-f]* <- main.deep) ret=1$' trace.txt)" = 10 ]
then pass go_ret_insn_across_stack_growth_and_gc; else
	fail go_ret_insn_across_stack_growth_and_gc "hits=$(hits rd): $(grep -m2 ' rd: ' trace.txt)"
fi
"$PK" trace 'r:ra main.add ret=$retval:s64' -- ./gocgo 0 >/dev/null 2>err.txt
[ $? = 0 ] && pass go_return_probe_needs_no_flag || fail go_return_probe_needs_no_flag "$(cat err.txt)"

# Probes are int3s (their frames on the signal stack), not jumps to detours,
# also where the code has room for a jump (main.deep: cmp rsp, 16(r14); jbe).
"$PK" trace 'p:a main.add' 'p:d main.deep' -o /dev/null -- ./gocgo 0 spin >/dev/null 2>err.txt &
tp=$!
addr=$((16#$(nm gocgo | awk '$3 == "main.deep" {print $1}')))
first=$(od -An -tx1 -N1 -j$(($(file_offset gocgo main.deep))) gocgo | tr -d ' ')
byte=""
for i in $(seq 100); do
	gp=$(pgrep -P $tp -x gocgo)
	[ -n "$gp" ] && byte=$(dd if=/proc/$gp/mem bs=1 skip=$addr count=1 2>/dev/null | od -An -tx1 | tr -d ' ')
	[ -n "$byte" ] && [ "$byte" != "$first" ] && break
	sleep 0.02
done
wait $tp
[ "$byte" = cc ] && [ "$(hits a)" -gt 1000 ] && pass go_probe_is_int3 ||
	fail go_probe_is_int3 "main.deep starts with $byte (was $first), $(hits a) hits of main.add"

# Without cgo: the runtime's threads have no C thread pointer: refused, and the program never ran.
"$PK" trace 'p:a main.add' -- ./gonocgo 3 >prog.txt 2>err.txt
rc=$?
if [ $rc = 2 ] && [ ! -s prog.txt ] && grep -q 'is a Go program without cgo' err.txt &&
	grep -q -- "--kernel 'p $tmp/gonocgo:main.main'" err.txt; then pass go_nocgo_refused_with_the_way_out
else fail go_nocgo_refused_with_the_way_out "rc=$rc: $(cat err.txt prog.txt)"; fi
# One exec'd by a traced program runs untraced, not killed by the first hit.
"$PK" trace 'p:a gonocgo:main.add' 'p:b gocgo:main.add' -o trace.txt -- \
	bash -c './gonocgo 5; echo "nocgo $?"; ./gocgo 5' >prog.txt 2>err.txt
rc=$?
if [ $rc = 0 ] && [ "$(cat prog.txt)" = "$(./gonocgo 5; echo "nocgo 0"; ./gocgo 5)" ] &&
	[ "$(hits a)" = 0 ] && [ "$(hits b)" = 6 ]; then pass go_nocgo_execd_runs_untraced
else fail go_nocgo_execd_runs_untraced "rc=$rc: $(cat prog.txt; grep -v '^#' err.txt | head -4)"; fi
if [ -w /sys/kernel/tracing/uprobe_events ]; then
	./gonocgo $N >plain.txt
	"$PK" trace --kernel "p:a $tmp/gonocgo:main.add a=%ax:s64 b=%bx:s64" -o trace.txt \
		-- ./gonocgo $N >prog.txt 2>err.txt
	rc=$?
	if [ $rc = 0 ] && cmp -s plain.txt prog.txt && [ "$(awk '$1 == "uprobes/a" {print $2}' err.txt)" = $((N + 10)) ] &&
		[ "$(grep -c ' a: .* a=[0-9]* b=7$' trace.txt)" = $N ]; then pass go_nocgo_kernel_uprobes
	else fail go_nocgo_kernel_uprobes "rc=$rc: $(head -3 err.txt)"; fi
else
	echo "SKIP go_nocgo_kernel_uprobes: no writable uprobe_events"
fi

# --ret-insn on a C program: the returns the swap sees, by count and value;
# a tail jump (glibc's strtol jumps to its worker) counts as the function's exit.
cat >s.c <<'C'
#include <stdio.h>
#include <stdlib.h>
__attribute__((noipa)) int pick(int x) { if (x % 3 == 0) return x / 3; if (x % 3 == 1) return -x; return 7; }
int main(void) { long s = 0; for (int i = 0; i < 300; i++) { s += pick(i); s += strtol("12", NULL, 10); } printf("%ld\n", s); return 0; }
C
cc -O2 -o s s.c || fail c_build "cc failed"
for mode in swap insn; do
	flag=""
	[ $mode = insn ] && flag=--ret-insn
	"$PK" trace $flag 'r:p pick ret=$retval:s32' 'r:t libc.so.6:strtol' -o $mode.txt -- ./s >$mode.out 2>$mode.err
	awk '/ p: / {print $NF}' $mode.txt | sort | uniq -c >$mode.vals
done
if cmp -s swap.vals insn.vals && [ "$(awk '$1 == "probekit/p" {print $2}' insn.err)" = 300 ] &&
	[ "$(awk '$1 == "probekit/t" {print $2}' insn.err)" = 300 ] &&
	[ "$(grep -c ' t: (main+0x[0-9a-f]*/0x[0-9a-f]* <- strto[il]' insn.txt)" = 300 ] &&
	[ "$(grep -c ' t: (main+0x[0-9a-f]*/0x[0-9a-f]* <- strto[il]' swap.txt)" = 300 ] &&
	cmp -s swap.out insn.out; then pass ret_insn_equals_swap_on_c
else fail ret_insn_equals_swap_on_c "$(head -3 insn.err swap.vals insn.vals)"; fi
exit $failed
