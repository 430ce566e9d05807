/* SPDX-License-Identifier: MIT */
/*
 * The architecture's part of <probekit.h>: struct pk_regs, the registers at
 * a probe, with the names of that architecture's kernel struct pt_regs, so
 * that a kernel kprobe handler's register accesses port unchanged.
 */
#ifndef PROBEKIT_ARCH_H
#define PROBEKIT_ARCH_H

#if defined(__x86_64__)
#include "arch/x86_64.h"
#elif defined(__aarch64__)
#include "arch/aarch64.h"
#else
#error "probekit: no struct pk_regs for this architecture"
#endif

#endif /* PROBEKIT_ARCH_H */
