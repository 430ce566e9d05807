// SPDX-License-Identifier: MIT
/*
 * Registers of another process's stopped thread, for attach (src/attach):
 * built into the probekit command, not the library. arm64 has no
 * PTRACE_GETREGS: the general registers are the NT_PRSTATUS regset, the
 * system call number NT_ARM_SYSTEM_CALL.
 */
#include <elf.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "arch/arch.h"
#include "arch_ptrace.h"

int arch_ptrace_getregs(int tid, struct pk_uregs *r)
{
	struct iovec gp = {&r->r, sizeof(r->r)}, nr = {&r->syscallno, sizeof(r->syscallno)};

	if (ptrace(PTRACE_GETREGSET, (pid_t)tid, (void *)NT_PRSTATUS, &gp))
		return -errno;
	if (ptrace(PTRACE_GETREGSET, (pid_t)tid, (void *)NT_ARM_SYSTEM_CALL, &nr))
		r->syscallno = -1;
	return 0;
}

int arch_ptrace_setregs(int tid, const struct pk_uregs *r)
{
	struct iovec gp = {(void *)&r->r, sizeof(r->r)};
	struct iovec nr = {(void *)&r->syscallno, sizeof(r->syscallno)};

	if (ptrace(PTRACE_SETREGSET, (pid_t)tid, (void *)NT_PRSTATUS, &gp))
		return -errno;
	/* Restart logic follows the number: -1 for the injected call, the saved one after. */
	if (ptrace(PTRACE_SETREGSET, (pid_t)tid, (void *)NT_ARM_SYSTEM_CALL, &nr))
		return -errno;
	return 0;
}

/* AAPCS64 has no red zone; sp stays 16-byte aligned. */
unsigned long arch_uregs_call_sp(const struct pk_uregs *r, unsigned long reserved)
{
	return (r->r.sp - reserved) & ~15UL;
}

unsigned long arch_uregs_setup_call(struct pk_uregs *r, unsigned long fn, unsigned long sp,
				    const unsigned long *args, int nargs)
{
	int i;

	r->r.sp = sp;
	r->r.pc = fn;
	/* The return address is the link register: returning to 0 faults, as on x86-64. */
	r->r.regs[ARCH_LR] = 0;
	for (i = 0; i < nargs && i < ARCH_INJECT_MAX_ARGS; i++)
		r->r.regs[i] = args[i];
	r->syscallno = -1;
	return 0;
}

unsigned long arch_uregs_ip(const struct pk_uregs *r)
{
	return r->r.pc;
}

unsigned long arch_uregs_return_value(const struct pk_uregs *r)
{
	return r->r.regs[0];
}

int arch_uregs_in_syscall(const struct pk_uregs *r)
{
	return r->syscallno >= 0;
}
