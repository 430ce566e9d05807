// SPDX-License-Identifier: MIT
/*
 * Where a function leaves: its ret instructions and its tail jumps, for
 * return probes that take the return at those instructions instead of
 * swapping the return address on the stack (which Go's stack copying and
 * CET shadow stacks both refuse).
 */
#include <errno.h>

#include "insn.h"
#include "internal.h"

/*
 * A jump leaves the function when it goes outside [start, start + size):
 * a direct one by its target, an indirect one only through a RIP-relative
 * slot (a GOT entry: a tail call through the PLT's way). A jump through a
 * register or an indexed table stays in: that is how switches are built.
 */
static int leaves(const struct pk_insn *in, uintptr_t start, size_t size)
{
	switch (in->kind) {
	case PK_INSN_RET: return 1;
	case PK_INSN_JMP: return in->target < start || in->target - start >= size;
	case PK_INSN_JMP_IND:
		/* RIP-relative: the decoder leaves neither base nor index, and the slot's address.
		 */
		return in->ind_mem && in->base == PK_REG_NONE && in->index == PK_REG_NONE &&
		       in->target;
	default: return 0;
	}
}

int arch_func_exits(const uint8_t *code, size_t size, uintptr_t start, size_t *offs, size_t max)
{
	size_t pc = 0, n = 0;

	while (pc < size) {
		struct pk_insn in;
		int len = pk_insn_length(code + pc, size - pc);

		if (len < 0)
			return n ? (int)n : -EILSEQ;
		/* Instructions we cannot probe (int3 padding, say) are not exits either. */
		if (!pk_insn_decode(code + pc, size - pc, start + pc, &in) &&
		    leaves(&in, start, size)) {
			if (n < max)
				offs[n] = pc;
			n++;
		}
		pc += (size_t)len;
	}
	return (int)n;
}
