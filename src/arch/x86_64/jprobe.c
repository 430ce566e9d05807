// SPDX-License-Identifier: MIT
/*
 * x86-64 jprobes: diverting a function's entry into the entry handler, and
 * the way back past the probe. The assembly half is jprobe_entry.S.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "internal.h"
#include "jprobe_frame.h"

extern unsigned long pk_xsave_size;
void pk_jprobe_stub(void);

_Static_assert(offsetof(struct pk_jframe, regs) == 0 && offsetof(struct pk_regs, r11) == JR_R11 &&
		   offsetof(struct pk_regs, ip) == JR_IP && offsetof(struct pk_regs, sp) == JR_SP &&
		   offsetof(struct pk_regs, flags) == JR_FL &&
		   offsetof(struct pk_regs, di) == JR_DI,
	       "jprobe_frame.h register offsets");
_Static_assert(offsetof(struct pk_jframe, entry) == JF_ENTRY &&
		   offsetof(struct pk_jframe, active) == JF_ACTIVE &&
		   sizeof(struct pk_jframe) <= JF_STACK && JF_STACK + JF_COPY <= JF_XSAVE &&
		   JF_XSAVE % 64 == 0 && JF_COPY == PK_JPROBE_STACK_COPY,
	       "jprobe_frame.h frame offsets");

size_t arch_jprobe_frame_size(void)
{
	return (JF_XSAVE + pk_xsave_size + 4095) & ~(size_t)4095;
}

void arch_jprobe_divert(struct pk_jframe *f, struct pk_regs *regs)
{
	uint8_t *copy = (uint8_t *)f + JF_STACK;
	size_t n = JF_COPY, i;

	/* Near the top of a stack fewer bytes exist: copy what is there, zeros after. */
	while (n && pk_read_nofault(copy, (const void *)regs->sp, n))
		n -= 8;
	for (i = n; i < JF_COPY; i++)
		copy[i] = 0;
	regs->ip = (uintptr_t)pk_jprobe_stub;
	regs->r11 = (uintptr_t)f;
}

void arch_jprobe_resume(struct pk_jframe *f)
{
	struct pk_site *site = f->site;
	struct pk_regs r = f->regs;
	uint64_t fault_addr;

	if (site->arch.slot) {
		/* As the trap path resumes a hit whose handlers left ip alone. */
		f->regs.ip = (uintptr_t)site->arch.slot +
			     (__atomic_load_n(&site->nr_post, __ATOMIC_RELAXED) ? PK_SLOT_POST : 0);
		pk_ool = (uintptr_t)site;
		return;
	}
	if (!pk_insn_emulate(&site->arch.insn, &r, &fault_addr)) {
		f->regs = r;
		return;
	}
	/* It faults: take the trap again and let the trap path report it as unprobed code would. */
	f->skip = site->addr;
	f->regs.ip = site->addr;
}
