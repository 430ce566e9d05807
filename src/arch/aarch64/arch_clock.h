/* SPDX-License-Identifier: MIT */
/*
 * The generic timer's virtual counter as a clock for trace records: the
 * record path reads it with one instruction, and the tracer turns it into
 * CLOCK_MONOTONIC (cli/clock.c).
 */
#ifndef PK_ARCH_CLOCK_H
#define PK_ARCH_CLOCK_H

#include <stdint.h>

/* The counter: CNTVCT_EL0, readable at EL0 under Linux, one for the whole machine. */
static inline uint64_t pk_arch_cycles(void)
{
	uint64_t v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

/*
 * The kernel clocksource that vouches for the counter: it runs on it only
 * once it found it steady and the same on every CPU.
 */
#define ARCH_CYCLES_CLOCKSOURCE "arch_sys_counter"

#endif /* PK_ARCH_CLOCK_H */
