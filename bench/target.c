// SPDX-License-Identifier: MIT
/*
 * The probed function, in a file of its own so that the driver's calls to it
 * cannot be inlined or elided.
 *
 * Taking the frame address forces a "push %rbp" prologue. Without it the
 * function is a lone "ret", which probekit emulates inside the signal
 * handler, so neither the out-of-line slot nor the post-handler stub would
 * be measured; a push is relocatable, as most functions' first instruction.
 */
#include "bench.h"

__attribute__((noinline)) void bench_target(long x)
{
	__asm__ volatile("" : : "r"(x), "r"(__builtin_frame_address(0)) : "memory");
}
