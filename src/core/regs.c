// SPDX-License-Identifier: MIT
/* Register accessors with the kernel's names and meanings (SysV x86-64 ABI). */
#include "internal.h"

PK_API unsigned long pk_regs_get_argument(const struct pk_regs *regs, unsigned int n)
{
	unsigned long v = 0;

	switch (n) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->cx;
	case 4: return regs->r8;
	case 5: return regs->r9;
	default:
		/* At the first instruction the return address is at sp, the 7th argument above it.
		 */
		if (pk_read_nofault(&v, (const void *)(regs->sp + 8 * (n - 5)), sizeof(v)))
			return 0;
		return v;
	}
}

PK_API unsigned long pk_regs_return_value(const struct pk_regs *regs)
{
	return regs->ax;
}

PK_API void pk_regs_set_return_value(struct pk_regs *regs, unsigned long rc)
{
	regs->ax = rc;
}

PK_API void pk_override_function_return(struct pk_regs *regs)
{
	unsigned long ret;

	if (pk_read_nofault(&ret, (const void *)regs->sp, sizeof(ret)))
		return;
	regs->ip = ret;
	regs->sp += 8;
}
