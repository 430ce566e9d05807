// SPDX-License-Identifier: MIT
/* arm64 jprobes: not written yet (they need entry probes, which are refused). */
#include "internal.h"

size_t arch_jprobe_frame_size(void)
{
	return (sizeof(struct pk_jframe) + 4095) & ~(size_t)4095;
}

/* Stub: never reached, no probe is ever hit. */
void arch_jprobe_divert(struct pk_jframe *f, struct pk_regs *regs)
{
	(void)f;
	(void)regs;
	__builtin_trap();
}

/* Stub: never reached (pk_jprobe_return() returns outside an entry handler). */
void arch_jprobe_resume(struct pk_jframe *f)
{
	(void)f;
	__builtin_trap();
}

/* Outside an entry handler it returns at once, as documented; there is no inside yet. */
PK_API void pk_jprobe_return(void)
{
}
