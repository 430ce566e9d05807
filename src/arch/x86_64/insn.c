// SPDX-License-Identifier: MIT
/*
 * Decode, classify, relocate and emulate single x86-64 instructions.
 *
 * An instruction runs relocated in its out-of-line slot unless its effect
 * depends on where it runs and cannot be fixed by rewriting a displacement:
 * relative branches and calls (their rel8 targets would not reach from the
 * slot, and a call would push the slot's address), and anything that leaves
 * the slot without falling through to its tail (ret, indirect jumps and
 * calls), since the tail is where a thread is known to have left the slot.
 * Those are emulated on the saved registers instead.
 */
#include <errno.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "probekit.h"
#include "insn.h"
#include "internal.h"

#define REG_IDX(field) ((int8_t)(offsetof(struct pk_regs, field) / sizeof(unsigned long)))

static int8_t zydis_gpr64(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_RAX: return REG_IDX(ax);
	case ZYDIS_REGISTER_RCX: return REG_IDX(cx);
	case ZYDIS_REGISTER_RDX: return REG_IDX(dx);
	case ZYDIS_REGISTER_RBX: return REG_IDX(bx);
	case ZYDIS_REGISTER_RSP: return REG_IDX(sp);
	case ZYDIS_REGISTER_RBP: return REG_IDX(bp);
	case ZYDIS_REGISTER_RSI: return REG_IDX(si);
	case ZYDIS_REGISTER_RDI: return REG_IDX(di);
	case ZYDIS_REGISTER_R8: return REG_IDX(r8);
	case ZYDIS_REGISTER_R9: return REG_IDX(r9);
	case ZYDIS_REGISTER_R10: return REG_IDX(r10);
	case ZYDIS_REGISTER_R11: return REG_IDX(r11);
	case ZYDIS_REGISTER_R12: return REG_IDX(r12);
	case ZYDIS_REGISTER_R13: return REG_IDX(r13);
	case ZYDIS_REGISTER_R14: return REG_IDX(r14);
	case ZYDIS_REGISTER_R15: return REG_IDX(r15);
	default: return -2;
	}
}

static int decode_raw(const uint8_t *buf, size_t avail, ZydisDecodedInstruction *ins,
		      ZydisDecodedOperand *ops)
{
	ZydisDecoder dec;

	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -EILSEQ;
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, buf, avail, ins, ops)))
		return -EILSEQ;
	return 0;
}

int pk_insn_length(const uint8_t *buf, size_t avail)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction ins;

	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -EILSEQ;
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, buf, avail, &ins)))
		return -EILSEQ;
	return ins.length;
}

/* jmp/call through a register or memory operand. */
static int classify_indirect(const ZydisDecodedInstruction *ins, const ZydisDecodedOperand *op,
			     struct pk_insn *out)
{
	if (ins->operand_width != 64)
		return -EOPNOTSUPP;
	if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		out->base = zydis_gpr64(op->reg.value);
		return out->base < 0 ? -EOPNOTSUPP : 0;
	}
	if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
		return -EOPNOTSUPP;
	/* fs/gs bases are not in the saved registers; compilers never branch through them. */
	if (op->mem.segment == ZYDIS_REGISTER_FS || op->mem.segment == ZYDIS_REGISTER_GS)
		return -EOPNOTSUPP;
	if (ins->address_width != 64)
		return -EOPNOTSUPP;
	out->ind_mem = 1;
	out->scale = op->mem.scale;
	out->disp = op->mem.disp.value;
	if (op->mem.base == ZYDIS_REGISTER_RIP) {
		out->base = PK_REG_NONE;
		out->index = PK_REG_NONE;
		out->target = out->pc + ins->length + (uint64_t)op->mem.disp.value;
		out->disp = (int64_t)out->target;
		return 0;
	}
	out->base = op->mem.base == ZYDIS_REGISTER_NONE ? PK_REG_NONE : zydis_gpr64(op->mem.base);
	out->index =
	    op->mem.index == ZYDIS_REGISTER_NONE ? PK_REG_NONE : zydis_gpr64(op->mem.index);
	if (out->base == -2 || out->index == -2)
		return -EOPNOTSUPP;
	return 0;
}

static int classify_relative(const ZydisDecodedInstruction *ins, struct pk_insn *out)
{
	if (ins->raw.imm[0].is_relative == 0)
		return -EOPNOTSUPP;
	/* 16-bit operand size truncates the target to 16 bits: never compiler output. */
	if (ins->operand_width == 16)
		return -EOPNOTSUPP;
	out->target = out->pc + ins->length + (uint64_t)ins->raw.imm[0].value.s;
	switch (ins->mnemonic) {
	case ZYDIS_MNEMONIC_JMP: out->kind = PK_INSN_JMP; return 0;
	case ZYDIS_MNEMONIC_CALL: out->kind = PK_INSN_CALL; return 0;
	case ZYDIS_MNEMONIC_LOOPNE:
	case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_JRCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
		out->kind = PK_INSN_LOOP;
		out->cc = ins->mnemonic == ZYDIS_MNEMONIC_LOOPNE  ? 0
			  : ins->mnemonic == ZYDIS_MNEMONIC_LOOPE ? 1
			  : ins->mnemonic == ZYDIS_MNEMONIC_LOOP  ? 2
								  : 3;
		out->addr32 = ins->address_width == 32;
		return 0;
	default: break;
	}
	if (ins->meta.category == ZYDIS_CATEGORY_COND_BR) {
		out->kind = PK_INSN_JCC;
		out->cc = ins->opcode & 0xf;
		return 0;
	}
	/* xbegin and anything else relative: aborting into the slot is not emulable. */
	return -EOPNOTSUPP;
}

int pk_insn_decode(const uint8_t *buf, size_t avail, uint64_t pc, struct pk_insn *out)
{
	ZydisDecodedInstruction ins;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	int err = decode_raw(buf, avail, &ins, ops);

	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	memcpy(out->bytes, buf, ins.length);
	out->len = ins.length;
	out->pc = pc;
	out->base = PK_REG_NONE;
	out->index = PK_REG_NONE;
	out->kind = PK_INSN_RELOC;

	if (ins.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR)
		return -EOPNOTSUPP;
	/*
	 * 0x66 on a near branch: Intel ignores it, AMD truncates the target
	 * to 16 bits and even decodes a different length. Compilers emit it
	 * only with REX.W (the TLS call padding "66 66 48 e8"), which wins on
	 * both; refuse the rest rather than guess the vendor.
	 */
	if (ins.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE &&
	    (ins.attributes & ZYDIS_ATTRIB_HAS_OPERANDSIZE) && !ins.raw.rex.W)
		return -EOPNOTSUPP;
	switch (ins.mnemonic) {
	case ZYDIS_MNEMONIC_INT:
		/* int $3 in the slot would look like our own int3 with no site behind it. */
		return ins.raw.imm[0].value.u == 3 ? -EOPNOTSUPP : 0;
	case ZYDIS_MNEMONIC_INT1:
	case ZYDIS_MNEMONIC_INT3:
	case ZYDIS_MNEMONIC_IRET:
	case ZYDIS_MNEMONIC_IRETD:
	case ZYDIS_MNEMONIC_IRETQ:
	case ZYDIS_MNEMONIC_SYSRET:
	case ZYDIS_MNEMONIC_SYSEXIT:
	case ZYDIS_MNEMONIC_XBEGIN: return -EOPNOTSUPP;
	case ZYDIS_MNEMONIC_RET:
		out->kind = PK_INSN_RET;
		if (ins.operand_width != 64)
			return -EOPNOTSUPP;
		if (ins.raw.imm[0].size)
			out->ret_pop = (uint16_t)ins.raw.imm[0].value.u;
		return 0;
	case ZYDIS_MNEMONIC_JMP:
	case ZYDIS_MNEMONIC_CALL:
		if (ins.raw.imm[0].is_relative)
			return classify_relative(&ins, out);
		out->kind = ins.mnemonic == ZYDIS_MNEMONIC_JMP ? PK_INSN_JMP_IND : PK_INSN_CALL_IND;
		return classify_indirect(&ins, &ops[0], out);
	default: break;
	}
	if (ins.attributes & ZYDIS_ATTRIB_IS_RELATIVE) {
		int i;

		if (ins.raw.imm[0].is_relative)
			return classify_relative(&ins, out);
		for (i = 0; i < ins.operand_count; i++) {
			const ZydisDecodedOperand *op = &ops[i];

			if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
				continue;
			if (op->mem.base == ZYDIS_REGISTER_EIP || ins.raw.disp.size != 32)
				return -EOPNOTSUPP;
			if (op->mem.base == ZYDIS_REGISTER_RIP) {
				out->disp_off = ins.raw.disp.offset;
				out->target = pc + ins.length + (uint64_t)ins.raw.disp.value;
				return 0;
			}
		}
		return -EOPNOTSUPP;
	}
	return 0;
}

int pk_insn_relocate(const struct pk_insn *insn, uint8_t *out, uint64_t to)
{
	int64_t disp;
	int32_t d32;

	if (insn->kind != PK_INSN_RELOC)
		return -EINVAL;
	memcpy(out, insn->bytes, insn->len);
	if (!insn->disp_off)
		return insn->len;
	disp = (int64_t)(insn->target - (to + insn->len));
	if (disp != (int32_t)disp)
		return -ERANGE;
	d32 = (int32_t)disp;
	memcpy(out + insn->disp_off, &d32, 4);
	return insn->len;
}

#define F_CF 0x001UL
#define F_PF 0x004UL
#define F_ZF 0x040UL
#define F_SF 0x080UL
#define F_OF 0x800UL

static int cond_holds(unsigned cc, unsigned long fl)
{
	int r;

	switch (cc >> 1) {
	case 0: r = !!(fl & F_OF); break;
	case 1: r = !!(fl & F_CF); break;
	case 2: r = !!(fl & F_ZF); break;
	case 3: r = !!(fl & (F_CF | F_ZF)); break;
	case 4: r = !!(fl & F_SF); break;
	case 5: r = !!(fl & F_PF); break;
	case 6: r = !!(fl & F_SF) != !!(fl & F_OF); break;
	default: r = (fl & F_ZF) || (!!(fl & F_SF) != !!(fl & F_OF)); break;
	}
	return (cc & 1) ? !r : r;
}

static int indirect_target(const struct pk_insn *insn, const unsigned long *r, uint64_t *dest,
			   uint64_t *fault_addr)
{
	uint64_t ea;

	if (!insn->ind_mem) {
		*dest = r[insn->base];
		return 0;
	}
	if (insn->target) {
		ea = insn->target;
	} else {
		ea = (uint64_t)insn->disp;
		if (insn->base != PK_REG_NONE)
			ea += r[insn->base];
		if (insn->index != PK_REG_NONE)
			ea += r[insn->index] * insn->scale;
	}
	if (pk_read_nofault(dest, (const void *)ea, 8)) {
		*fault_addr = ea;
		return -EFAULT;
	}
	return 0;
}

int pk_insn_emulate(const struct pk_insn *insn, struct pk_regs *regs, uint64_t *fault_addr)
{
	unsigned long *r = (unsigned long *)regs;
	uint64_t next = insn->pc + insn->len, dest, count;
	int taken, err;

	switch (insn->kind) {
	case PK_INSN_JMP: regs->ip = insn->target; return 0;
	case PK_INSN_JCC:
		regs->ip = cond_holds(insn->cc, regs->flags) ? insn->target : next;
		return 0;
	case PK_INSN_LOOP:
		count = insn->addr32 ? (uint32_t)regs->cx : regs->cx;
		if (insn->cc == 3) {
			taken = count == 0;
		} else {
			count = insn->addr32 ? (uint32_t)(count - 1) : count - 1;
			/* A 32-bit counter write zero-extends into rcx, as any 32-bit write does.
			 */
			regs->cx = count;
			taken = count != 0;
			if (insn->cc == 0)
				taken = taken && !(regs->flags & F_ZF);
			else if (insn->cc == 1)
				taken = taken && (regs->flags & F_ZF);
		}
		regs->ip = taken ? insn->target : next;
		return 0;
	case PK_INSN_CALL:
		regs->sp -= 8;
		*(uint64_t *)regs->sp = next;
		regs->ip = insn->target;
		return 0;
	case PK_INSN_JMP_IND:
	case PK_INSN_CALL_IND:
		err = indirect_target(insn, r, &dest, fault_addr);
		if (err)
			return err;
		if (insn->kind == PK_INSN_CALL_IND) {
			regs->sp -= 8;
			*(uint64_t *)regs->sp = next;
		}
		regs->ip = dest;
		return 0;
	case PK_INSN_RET:
		if (pk_read_nofault(&dest, (const void *)regs->sp, 8)) {
			*fault_addr = regs->sp;
			return -EFAULT;
		}
		regs->ip = dest;
		regs->sp += 8 + insn->ret_pop;
		return 0;
	default: return -EINVAL;
	}
}

void pk_writer_init(struct pk_writer *w, uint8_t *buf, size_t cap, uint64_t pc)
{
	w->buf = buf;
	w->len = 0;
	w->cap = cap;
	w->pc = pc;
	w->err = 0;
}

void pk_writer_bytes(struct pk_writer *w, const void *bytes, size_t n)
{
	if (w->len + n > w->cap) {
		if (!w->err)
			w->err = -ENOSPC;
		return;
	}
	memcpy(w->buf + w->len, bytes, n);
	w->len += n;
}

void pk_writer_u64(struct pk_writer *w, uint64_t v)
{
	pk_writer_bytes(w, &v, 8);
}

/* Emit @op then a rel32 relative to the end of the instruction (@tail more bytes after it). */
static void write_rel32(struct pk_writer *w, const uint8_t *op, size_t oplen, uint64_t target,
			size_t tail)
{
	uint64_t end = pk_writer_here(w) + oplen + 4 + tail;
	int64_t d = (int64_t)(target - end);
	int32_t d32 = (int32_t)d;

	if (d != d32 && !w->err)
		w->err = -ERANGE;
	pk_writer_bytes(w, op, oplen);
	pk_writer_bytes(w, &d32, 4);
}

void pk_writer_jmp(struct pk_writer *w, uint64_t target)
{
	static const uint8_t op[] = {0xe9};

	write_rel32(w, op, sizeof(op), target, 0);
}

void pk_writer_jmp_mem(struct pk_writer *w, uint64_t lit_pc)
{
	static const uint8_t op[] = {0xff, 0x25};

	write_rel32(w, op, sizeof(op), lit_pc, 0);
}

void pk_writer_call_mem(struct pk_writer *w, uint64_t lit_pc)
{
	static const uint8_t op[] = {0xff, 0x15};

	write_rel32(w, op, sizeof(op), lit_pc, 0);
}

void pk_writer_lea_rsp32(struct pk_writer *w, int32_t delta)
{
	uint8_t op[8] = {0x48, 0x8d, 0xa4, 0x24};

	memcpy(op + 4, &delta, 4);
	pk_writer_bytes(w, op, sizeof(op));
}

void pk_writer_push_mem(struct pk_writer *w, uint64_t lit_pc)
{
	static const uint8_t op[] = {0xff, 0x35};

	write_rel32(w, op, sizeof(op), lit_pc, 0);
}

void pk_writer_lea_rsp(struct pk_writer *w, int8_t delta)
{
	uint8_t op[] = {0x48, 0x8d, 0x64, 0x24, (uint8_t)delta};

	pk_writer_bytes(w, op, sizeof(op));
}

void pk_writer_clear_fs(struct pk_writer *w, int32_t off)
{
	uint8_t op[13] = {0x64, 0x48, 0xc7, 0x04, 0x25};

	memcpy(op + 5, &off, 4);
	memset(op + 9, 0, 4);
	pk_writer_bytes(w, op, sizeof(op));
}
