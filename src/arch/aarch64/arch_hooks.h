/* SPDX-License-Identifier: MIT */
/*
 * arm64's inline hooks and constants of the arch contract (src/arch/arch.h,
 * which documents each). AAPCS64: integer arguments in x0-x7, then on the
 * stack at sp; the result in x0; the return address in the link register
 * x30, which a call does not push: the callee saves it where it likes.
 */
#ifndef PK_ARCH_HOOKS_H
#define PK_ARCH_HOOKS_H

#include <elf.h>
#include <errno.h>

#define ARCH_NAME	 "aarch64"
#define ARCH_TRAP_NAME	 "brk"
#define ARCH_TRAP_LABEL	 "BRK"
#define ARCH_ELF_MACHINE EM_AARCH64
#define ARCH_MULTIARCH	 "aarch64-linux-gnu"
/* b reaches +-128 MiB; a little under, leaving room for a slot chunk itself. */
#define ARCH_SLOT_REACH 0x7ff0000L
/* 48-bit user addresses (4 KiB pages, 4 levels). */
#define ARCH_USER_TOP  0xfffffffff000UL
#define ARCH_OPT_STEPS 4
/* A planted brk or b is one aligned instruction: it reads nothing before it. */
#define ARCH_OPT_READ_BEHIND 0
#define ARCH_INJECT_MAX_ARGS 8

#define ARCH_NR_ARG_REGS 8
#define ARCH_LR		 30

static inline unsigned long arch_regs_ip(const struct pk_regs *regs)
{
	return regs->pc;
}

static inline void arch_regs_set_ip(struct pk_regs *regs, unsigned long ip)
{
	regs->pc = ip;
}

static inline unsigned long arch_regs_sp(const struct pk_regs *regs)
{
	return regs->sp;
}

static inline unsigned long arch_regs_fp(const struct pk_regs *regs)
{
	return regs->regs[29];
}

static inline unsigned long arch_regs_return_value(const struct pk_regs *regs)
{
	return regs->regs[0];
}

static inline void arch_regs_set_return_value(struct pk_regs *regs, unsigned long rc)
{
	regs->regs[0] = rc;
}

static inline int arch_regs_get_argument(const struct pk_regs *regs, unsigned int n,
					 unsigned long *val)
{
	if (n < ARCH_NR_ARG_REGS) {
		*val = regs->regs[n];
		return 0;
	}
	/* The 9th argument is at sp on entry: no return address lies between. */
	if (pk_read_nofault(val, (const void *)(regs->sp + 8ul * (n - ARCH_NR_ARG_REGS)),
			    sizeof(*val))) {
		*val = 0;
		return -EFAULT;
	}
	return 0;
}

static inline int arch_regs_return_to_caller(struct pk_regs *regs)
{
	regs->pc = regs->regs[ARCH_LR];
	return 0;
}

/* A call leaves sp as it was: on return sp is the entry's again. */
static inline unsigned long arch_rethook_frame(const struct pk_regs *regs)
{
	return regs->sp;
}

static inline unsigned long *arch_rethook_entry_slot(struct pk_regs *regs)
{
	return &regs->regs[ARCH_LR];
}

static inline unsigned long arch_rethook_frame_returned(const struct pk_regs *regs)
{
	return regs->sp;
}

/* The callee spills x30 wherever its prologue says: no slot to check or restore. */
static inline unsigned long *arch_rethook_slot(unsigned long frame)
{
	(void)frame;
	return NULL;
}

static inline uintptr_t arch_thread_pointer(void)
{
	uintptr_t tp;

	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

#endif
