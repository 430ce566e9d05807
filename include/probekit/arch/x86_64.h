/* SPDX-License-Identifier: MIT */
/* Included by <probekit.h>; not to be included directly. */
#ifndef PROBEKIT_ARCH_X86_64_H
#define PROBEKIT_ARCH_X86_64_H

/*
 * The registers at the probe, with the field names and order of the x86-64
 * kernel's struct pt_regs. Handlers may write them; the writes take effect.
 */
struct pk_regs {
	unsigned long r15;
	unsigned long r14;
	unsigned long r13;
	unsigned long r12;
	unsigned long bp;
	unsigned long bx;
	unsigned long r11;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long ax;
	unsigned long cx;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long ip;
	unsigned long cs;
	unsigned long flags;
	unsigned long sp;
	unsigned long ss;
};

#endif /* PROBEKIT_ARCH_X86_64_H */
