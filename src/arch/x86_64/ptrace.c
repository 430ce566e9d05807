// SPDX-License-Identifier: MIT
/*
 * Registers of another process's stopped thread, for attach (src/attach):
 * built into the probekit command, not the library.
 */
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include "arch/arch.h"
#include "arch_ptrace.h"

/* The SysV ABI keeps 128 bytes below rsp for the function's own use. */
#define RED_ZONE 128

int arch_ptrace_getregs(int tid, struct pk_uregs *r)
{
	return ptrace(PTRACE_GETREGS, (pid_t)tid, 0, &r->r) ? -errno : 0;
}

int arch_ptrace_setregs(int tid, const struct pk_uregs *r)
{
	return ptrace(PTRACE_SETREGS, (pid_t)tid, 0, &r->r) ? -errno : 0;
}

unsigned long arch_uregs_call_sp(const struct pk_uregs *r, unsigned long reserved)
{
	return (r->r.rsp - RED_ZONE - reserved) & ~15UL;
}

unsigned long arch_uregs_setup_call(struct pk_uregs *r, unsigned long fn, unsigned long sp,
				    const unsigned long *args, int nargs)
{
	/* The SysV argument registers, in order. */
	unsigned long long *argreg[ARCH_INJECT_MAX_ARGS] = {&r->r.rdi, &r->r.rsi, &r->r.rdx,
							    &r->r.rcx, &r->r.r8,  &r->r.r9};
	int i;

	/* Aligned as right after a call: the return address below the 16-byte boundary. */
	sp -= 8;
	r->r.rsp = sp;
	r->r.rip = fn;
	r->r.rax = 0;
	/* Not a system call any more: no restart logic for the injected call. */
	r->r.orig_rax = (unsigned long)-1;
	for (i = 0; i < nargs && i < ARCH_INJECT_MAX_ARGS; i++)
		*argreg[i] = args[i];
	return sp;
}

unsigned long arch_uregs_ip(const struct pk_uregs *r)
{
	return r->r.rip;
}

unsigned long arch_uregs_return_value(const struct pk_uregs *r)
{
	return r->r.rax;
}

int arch_uregs_in_syscall(const struct pk_uregs *r)
{
	/* orig_rax holds the number of the system call the thread is in, or -1. */
	return (long)r->r.orig_rax >= 0;
}
