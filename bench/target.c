// SPDX-License-Identifier: MIT
/*
 * The probed function, in a file of its own so that the driver's calls to it
 * cannot be inlined or elided.
 *
 * Two builds of the benchmark differ only in the function's first
 * instruction, because the kernel's uprobe cost depends on it: most
 * instructions are single-stepped out of line, while a few (push, nop, jumps)
 * are emulated in the trap and cost far less. The default starts with a lea,
 * an ordinary arithmetic instruction; BENCH_PUSH_FIRST starts with
 * "push %rbp", the kernel's cheapest case. probekit relocates both.
 */
#include "bench.h"

#ifdef BENCH_PUSH_FIRST
__attribute__((noinline)) void bench_target(long x)
{
	/* The frame address forces a frame pointer, hence the push. */
	__asm__ volatile("" : : "r"(x), "r"(__builtin_frame_address(0)) : "memory");
}
#else
__attribute__((noinline)) void bench_target(long x)
{
	__asm__ volatile("lea (%0,%0,2), %0" : "+r"(x) : : "memory");
}
#endif
