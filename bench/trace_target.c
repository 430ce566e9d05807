// SPDX-License-Identifier: MIT
/*
 * The traced program of the trace benchmark (trace_bench.sh): main calls
 * bt_fn(a, b) N times, N from argv[1], and prints a checksum so that the
 * calls cannot be elided. Every tracer in the comparison records the same
 * function with the same two integer arguments.
 *
 * bt_fn's first instruction matters to kernel uprobes, which emulate push,
 * nop and jumps in the trap but single-step anything else out of line. The
 * default build starts with a lea, an ordinary instruction; BT_PUSH_FIRST
 * starts with "push %rbp", the kernel's cheap case. The uftrace builds add
 * -pg (push %rbp; mov %rsp,%rbp; call mcount) or -fpatchable-function-entry
 * (a 5-byte nop uftrace patches into a call) in front of either.
 */
#include <stdio.h>
#include <stdlib.h>

/*
 * A clone (bt_fn.constprop.0, .isra.0) would take the calls and leave the
 * probed symbol unhit: GCC's noipa rules out cloning as well as inlining.
 */
#ifdef __clang__
#define BT_FN_ATTR __attribute__((noinline))
#else
#define BT_FN_ATTR __attribute__((noinline, noipa))
#endif

#ifdef BT_PUSH_FIRST
BT_FN_ATTR long bt_fn(long a, long b)
{
	/* Taking the frame address forces a frame pointer, hence the push. */
	__asm__ volatile("" : : "r"(__builtin_frame_address(0)) : "memory");
	return a * 3 + b;
}
#else
BT_FN_ATTR long bt_fn(long a, long b)
{
	/* Written out so that no compiler can open the function otherwise. */
	__asm__ volatile("lea (%0,%0,2), %0" : "+r"(a));
	return a + b;
}
#endif

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000;
	unsigned long sum = 0;
	long i;

	for (i = 0; i < n; i++)
		/* Both arguments fit in 32 bits, so the s32 fetches print them whole. */
		sum += (unsigned long)bt_fn(i & 0x7fffffff, (n - i) & 0x7fffffff);
	printf("%ld calls, checksum %lu\n", n, sum);
	return 0;
}
