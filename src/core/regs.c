// SPDX-License-Identifier: MIT
/* Register accessors with the kernel's names and meanings; the arch knows the ABI. */
#include "internal.h"

PK_API unsigned long pk_regs_get_argument(const struct pk_regs *regs, unsigned int n)
{
	unsigned long v;

	arch_regs_get_argument(regs, n, &v);
	return v;
}

PK_API unsigned long pk_regs_return_value(const struct pk_regs *regs)
{
	return arch_regs_return_value(regs);
}

PK_API void pk_regs_set_return_value(struct pk_regs *regs, unsigned long rc)
{
	arch_regs_set_return_value(regs, rc);
}

PK_API void pk_override_function_return(struct pk_regs *regs)
{
	arch_regs_return_to_caller(regs);
}
