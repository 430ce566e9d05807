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

/**
 * pk_arch_cycles_usable() - whether pk_arch_cycles() is one steady clock
 * for every CPU of the machine.
 *
 * The kernel's clocksource is the judge: it runs on the TSC only once it
 * found the TSC invariant and synchronised across CPUs.
 *
 * Return: 1 if so, 0 if not (or it cannot tell).
 */
int pk_arch_cycles_usable(void);

#endif /* PK_ARCH_CLOCK_H */
