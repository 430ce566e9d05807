/* SPDX-License-Identifier: MIT */
/*
 * The CPU's cycle counter as a clock for trace records: the record path
 * reads it in a few cycles where clock_gettime() takes about 25 ns, and
 * the tracer turns it into CLOCK_MONOTONIC (cli/clock.c).
 */
#ifndef PK_ARCH_CLOCK_H
#define PK_ARCH_CLOCK_H

#include <stdint.h>

/* The counter: the TSC, one for the whole machine when the kernel uses it too. */
static inline uint64_t pk_arch_cycles(void)
{
	return __builtin_ia32_rdtsc();
}

/*
 * The kernel clocksource that vouches for the counter: it runs on it only
 * once it found it steady and the same on every CPU.
 */
#define ARCH_CYCLES_CLOCKSOURCE "tsc"

#endif /* PK_ARCH_CLOCK_H */
