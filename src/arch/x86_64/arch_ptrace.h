/* SPDX-License-Identifier: MIT */
/* x86-64's struct pk_uregs (src/arch/arch.h): what PTRACE_GETREGS reads. */
#ifndef PK_ARCH_PTRACE_H
#define PK_ARCH_PTRACE_H

#include <sys/user.h>

struct pk_uregs {
	struct user_regs_struct r;
};

#endif
