/* SPDX-License-Identifier: MIT */
/* Included by <probekit.h>; not to be included directly. */
#ifndef PROBEKIT_ARCH_AARCH64_H
#define PROBEKIT_ARCH_AARCH64_H

/*
 * The registers at the probe, with the field names and order of the arm64
 * kernel's struct pt_regs (its user_pt_regs part): x0-x30 in regs[], then
 * sp, pc and pstate. Handlers may write them; the writes take effect.
 */
struct pk_regs {
	unsigned long regs[31];
	unsigned long sp;
	unsigned long pc;
	unsigned long pstate;
};

#endif /* PROBEKIT_ARCH_AARCH64_H */
