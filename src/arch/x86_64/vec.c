// SPDX-License-Identifier: MIT
/*
 * Whether a handler may touch vector or x87 state.
 *
 * The SysV ABI lets any call clobber every xmm/ymm/zmm register, so a
 * detour that calls C must save the extended state (xsave, hundreds of
 * bytes, tens of ns) unless it knows the C it calls leaves that state
 * alone, as the kernel knows of its own code. This decodes a handler and
 * everything it can reach by direct calls and jumps, within each
 * function's symbol bounds: any instruction with an x87, MMX, SSE, AVX or
 * mask register operand, or one that saves or loads that state, and any
 * indirect call or jump (which may go anywhere, a PLT entry included)
 * makes the answer "may". Only a complete walk says "does not".
 */
#include <errno.h>

#include <Zydis/Zydis.h>

#include "internal.h"
#include "sym/sym.h"

#define MAX_FUNCS 64
#define MAX_INSNS 16384
#define CACHE	  1024

static struct {
	uintptr_t fn;
	int uses;
} cache[CACHE];

static int vector_register(ZydisRegister r)
{
	switch (ZydisRegisterGetClass(r)) {
	case ZYDIS_REGCLASS_X87:
	case ZYDIS_REGCLASS_MMX:
	case ZYDIS_REGCLASS_XMM:
	case ZYDIS_REGCLASS_YMM:
	case ZYDIS_REGCLASS_ZMM:
	case ZYDIS_REGCLASS_TMM:
	case ZYDIS_REGCLASS_MASK: return 1;
	default:
		return r == ZYDIS_REGISTER_MXCSR || r == ZYDIS_REGISTER_X87CONTROL ||
		       r == ZYDIS_REGISTER_X87STATUS || r == ZYDIS_REGISTER_X87TAG;
	}
}

static int vector_insn(const ZydisDecodedInstruction *ins, const ZydisDecodedOperand *ops)
{
	unsigned int i;

	switch (ins->mnemonic) {
	case ZYDIS_MNEMONIC_VZEROUPPER:
	case ZYDIS_MNEMONIC_VZEROALL:
	case ZYDIS_MNEMONIC_EMMS:
	case ZYDIS_MNEMONIC_FEMMS:
	case ZYDIS_MNEMONIC_FXRSTOR:
	case ZYDIS_MNEMONIC_FXRSTOR64:
	case ZYDIS_MNEMONIC_XRSTOR:
	case ZYDIS_MNEMONIC_XRSTOR64:
	case ZYDIS_MNEMONIC_XRSTORS:
	case ZYDIS_MNEMONIC_XRSTORS64:
	case ZYDIS_MNEMONIC_LDMXCSR:
	case ZYDIS_MNEMONIC_VLDMXCSR: return 1;
	default: break;
	}
	for (i = 0; i < ins->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && vector_register(ops[i].reg.value))
			return 1;
	return 0;
}

struct walk {
	uintptr_t todo[MAX_FUNCS];
	unsigned int n, done, insns;
};

static int add(struct walk *w, uintptr_t fn)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (w->todo[i] == fn)
			return 0;
	if (w->n == MAX_FUNCS)
		return -1;
	w->todo[w->n++] = fn;
	return 0;
}

/* One function: 0 if clean (its direct callees queued), 1 if it may touch vector state. */
static int scan(struct walk *w, uintptr_t fn)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction ins;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	struct pk_sym_info si;
	uintptr_t pc, end;
	uint8_t buf[16];

	if (pk_sym_find(fn, &si) || si.start != fn || !si.size)
		return 1; /* no bounds to walk within */
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	end = fn + si.size;
	for (pc = fn; pc < end; pc += ins.length) {
		size_t n = end - pc < sizeof(buf) ? end - pc : sizeof(buf);

		if (++w->insns > MAX_INSNS || pk_read_orig(pc, buf, n) ||
		    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, n, &ins, ops)))
			return 1;
		if (vector_insn(&ins, ops))
			return 1;
		if (ins.meta.branch_type == ZYDIS_BRANCH_TYPE_NONE)
			continue;
		if (ins.mnemonic == ZYDIS_MNEMONIC_RET)
			continue;
		if (!ins.raw.imm[0].is_relative)
			return 1; /* indirect, or far */
		{
			uintptr_t to = pc + ins.length + (uintptr_t)ins.raw.imm[0].value.s;

			if ((to < fn || to >= end) && add(w, to))
				return 1;
		}
	}
	return 0;
}

int arch_code_uses_vector(uintptr_t fn)
{
	struct walk w = {.n = 0};
	unsigned int h = (unsigned int)((fn * 0x9e3779b97f4a7c15ULL) >> 54) % CACHE;
	int uses = 0;

	if (cache[h].fn == fn)
		return cache[h].uses;
	add(&w, fn);
	while (!uses && w.done < w.n)
		uses = scan(&w, w.todo[w.done++]);
	cache[h].fn = fn;
	cache[h].uses = uses;
	return uses;
}
