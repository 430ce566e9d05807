/* SPDX-License-Identifier: MIT */
/* arm64's struct pk_uregs (src/arch/arch.h): NT_PRSTATUS and the system call number. */
#ifndef PK_ARCH_PTRACE_H
#define PK_ARCH_PTRACE_H

#include <sys/user.h>

struct pk_uregs {
	struct user_regs_struct r;
	/* NT_ARM_SYSTEM_CALL: the call the thread is in, or -1 (what orig_ax is on x86-64). */
	int syscallno;
};

#endif
