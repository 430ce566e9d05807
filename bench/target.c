// SPDX-License-Identifier: MIT
/*
 * The probed function, in a file of its own so that the driver's calls to it
 * cannot be inlined or elided. Every row of the benchmark probes this same
 * code: the library rows in pk_bench, the tracer rows in bt_* (trace_target.c),
 * the uftrace rows in a -fpatchable-function-entry build of this file.
 *
 * Two builds differ only in the function's first instruction, because the
 * kernel's uprobe cost depends on it: most instructions are single-stepped
 * out of line, while a few (push, nop, jumps) are emulated in the trap and
 * cost far less. The default starts with a lea, an ordinary arithmetic
 * instruction of 4 bytes (too short for a plain jmp rel32: probekit must pun
 * one); BENCH_PUSH_FIRST starts with "push %rbp", the kernel's cheapest case.
 * Two integer arguments, for the tracer rows' two fetched args.
 */
#include "bench.h"

/* A clone (bench_target.constprop.0) would take the calls and leave the symbol unhit. */
#ifdef __clang__
#define BENCH_FN_ATTR __attribute__((noinline))
#else
#define BENCH_FN_ATTR __attribute__((noinline, noipa))
#endif

#ifdef BENCH_PUSH_FIRST
BENCH_FN_ATTR long bench_target(long a, long b)
{
	/* The frame address forces a frame pointer, hence the push. */
	__asm__ volatile("" : : "r"(__builtin_frame_address(0)) : "memory");
	return a * 3 + b;
}
#else
BENCH_FN_ATTR long bench_target(long a, long b)
{
	/* Written out so that no compiler can open the function otherwise. */
	__asm__ volatile("lea (%0,%0,2), %0" : "+r"(a));
	return a + b;
}
#endif
