/* SPDX-License-Identifier: MIT */
#ifndef PK_ARCH_SITE_H
#define PK_ARCH_SITE_H

#include <stdint.h>

/* The arm64 engine is not written yet: a site keeps the instruction it would displace. */
struct pk_arch_site {
	uint32_t insn;
	uint8_t *slot;
};

/* Whether the return trampoline's fast exit can resume @r: the stack pointer as it came. */
#define pk_arch_fast_resume(r, sp0) ((r)->sp == (sp0))

#endif
