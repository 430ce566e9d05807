/* SPDX-License-Identifier: MIT */
/*
 * x86-64's inline hooks and constants of the arch contract (src/arch/arch.h,
 * which documents each). The System V AMD64 ABI: integer arguments in rdi,
 * rsi, rdx, rcx, r8, r9, then on the stack above the return address, which
 * the call pushed at the stack pointer; the result in rax.
 */
#ifndef PK_ARCH_HOOKS_H
#define PK_ARCH_HOOKS_H

#include <elf.h>
#include <errno.h>

#define ARCH_NAME	 "x86-64"
#define ARCH_TRAP_NAME	 "int3"
#define ARCH_TRAP_LABEL	 "INT3"
#define ARCH_ELF_MACHINE EM_X86_64
#define ARCH_MULTIARCH	 "x86_64-linux-gnu"
/* rel32 reaches +-2 GiB; a little under, leaving room for a slot chunk itself. */
#define ARCH_SLOT_REACH 0x7fff0000L
/* 47-bit user addresses (4-level page tables). */
#define ARCH_USER_TOP  0x7ffffffff000UL
#define ARCH_OPT_STEPS 4
/* A punned or evicting jump starts up to this many bytes before what it reads. */
#define ARCH_OPT_READ_BEHIND 8
#define ARCH_INJECT_MAX_ARGS 6

static inline unsigned long arch_regs_ip(const struct pk_regs *regs)
{
	return regs->ip;
}

static inline void arch_regs_set_ip(struct pk_regs *regs, unsigned long ip)
{
	regs->ip = ip;
}

static inline unsigned long arch_regs_sp(const struct pk_regs *regs)
{
	return regs->sp;
}

static inline unsigned long arch_regs_fp(const struct pk_regs *regs)
{
	return regs->bp;
}

static inline unsigned long arch_regs_return_value(const struct pk_regs *regs)
{
	return regs->ax;
}

static inline void arch_regs_set_return_value(struct pk_regs *regs, unsigned long rc)
{
	regs->ax = rc;
}

static inline int arch_regs_get_argument(const struct pk_regs *regs, unsigned int n,
					 unsigned long *val)
{
	switch (n) {
	case 0: *val = regs->di; return 0;
	case 1: *val = regs->si; return 0;
	case 2: *val = regs->dx; return 0;
	case 3: *val = regs->cx; return 0;
	case 4: *val = regs->r8; return 0;
	case 5: *val = regs->r9; return 0;
	default:
		/* At the first instruction the return address is at sp, the 7th argument above it.
		 */
		if (pk_read_nofault(val, (const void *)(regs->sp + 8ul * (n - 5)), sizeof(*val))) {
			*val = 0;
			return -EFAULT;
		}
		return 0;
	}
}

static inline int arch_regs_return_to_caller(struct pk_regs *regs)
{
	unsigned long ret;

	if (pk_read_nofault(&ret, (const void *)regs->sp, sizeof(ret)))
		return -EFAULT;
	regs->ip = ret;
	regs->sp += 8;
	return 0;
}

/* A call's frame is the stack word its return address was pushed to. */
static inline unsigned long arch_rethook_frame(const struct pk_regs *regs)
{
	return regs->sp;
}

static inline unsigned long *arch_rethook_entry_slot(struct pk_regs *regs)
{
	return (unsigned long *)regs->sp;
}

/* ret popped the trampoline's address: the frame's word is just below. */
static inline unsigned long arch_rethook_frame_returned(const struct pk_regs *regs)
{
	return regs->sp - 8;
}

static inline unsigned long *arch_rethook_slot(unsigned long frame)
{
	return (unsigned long *)frame;
}

/* The TCB's first word points at itself (TLS variant II). */
static inline uintptr_t arch_thread_pointer(void)
{
	uintptr_t tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

#endif
