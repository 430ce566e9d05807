/* SPDX-License-Identifier: MIT */
/*
 * x86-64 instruction analysis for probing: decode one instruction (Zydis),
 * decide whether it runs relocated in an out-of-line slot or is emulated,
 * and write its relocated form. Decoding and rewriting are kept apart; both
 * are pure functions of their inputs so that the byte tables in
 * tests/test_reloc.c can check them without patching anything.
 */
#ifndef PK_X86_INSN_H
#define PK_X86_INSN_H

#include <stddef.h>
#include <stdint.h>

struct pk_regs;

enum pk_insn_kind {
	PK_INSN_RELOC = 0, /* runs in the slot; RIP-relative disp rewritten */
	PK_INSN_JMP,	   /* jmp rel8/rel32 */
	PK_INSN_JCC,	   /* jcc rel8/rel32; cc holds the condition (0-15) */
	PK_INSN_LOOP,	   /* loop/loope/loopne/jrcxz; cc: 0 loopne 1 loope 2 loop 3 jrcxz */
	PK_INSN_CALL,	   /* call rel32 */
	PK_INSN_JMP_IND,   /* jmp r/m64, including jmp [rip+disp] */
	PK_INSN_CALL_IND,  /* call r/m64, including call [rip+disp] */
	PK_INSN_RET,	   /* ret, ret imm16 */
};

/* An operand register, as an index into struct pk_regs (in longs), or -1. */
#define PK_REG_NONE (-1)

struct pk_insn {
	uint8_t bytes[16];
	uint8_t len;
	uint8_t kind;
	uint8_t cc;
	uint8_t addr32;	  /* 0x67: loop/jrcxz count in ecx, not rcx */
	uint8_t disp_off; /* RELOC: offset of a RIP-relative disp32, 0 if none */
	uint8_t ind_mem;  /* *_IND: operand is memory (else register @base) */
	int8_t base;	  /* *_IND: base register (PK_REG_NONE for none/RIP) */
	int8_t index;	  /* *_IND: index register */
	uint8_t scale;
	uint16_t ret_pop; /* RET: bytes popped after the return address */
	int64_t disp;	  /* *_IND memory displacement (RIP-relative: absolute in target) */
	uint64_t target;  /* direct branch target, or absolute RIP-relative address */
	uint64_t pc;	  /* where the instruction was decoded */
};

/*
 * Decode the instruction at @buf (run-time address @pc, at most @avail bytes)
 * and classify it.
 * Returns 0, -EILSEQ (not a valid instruction), -EOPNOTSUPP (one that can be
 * neither relocated nor emulated: int3, far transfers, xbegin, 16-bit
 * branches, indirect branches through fs/gs or 32-bit addresses).
 */
int pk_insn_decode(const uint8_t *buf, size_t avail, uint64_t pc, struct pk_insn *out);

/*
 * Length of the instruction at @buf, or -EILSEQ. For boundary walks.
 */
int pk_insn_length(const uint8_t *buf, size_t avail);

/*
 * Write the relocated form of a PK_INSN_RELOC instruction into @out (at
 * least 16 bytes), to run at @to.
 * Returns its length, or -ERANGE if a RIP-relative operand would be out of
 * reach from @to, or -EINVAL for an instruction that is not PK_INSN_RELOC.
 */
int pk_insn_relocate(const struct pk_insn *insn, uint8_t *out, uint64_t to);

/*
 * Carry out an emulated instruction on @regs (regs->ip is the instruction's
 * address on entry, the next one on return). Reads and writes the stack.
 * Returns 0, or -EFAULT if an operand in memory cannot be read (*fault_addr
 * then holds the address).
 */
int pk_insn_emulate(const struct pk_insn *insn, struct pk_regs *regs, uint64_t *fault_addr);

/*
 * A small code writer that knows both where bytes are stored (@buf) and
 * where they will run (@pc), and checks that every rel32 reaches.
 */
struct pk_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint64_t pc; /* run-time address of buf[0] */
	int err;     /* first error: -ERANGE (rel32 out of reach) or -ENOSPC */
};

void pk_writer_init(struct pk_writer *w, uint8_t *buf, size_t cap, uint64_t pc);
void pk_writer_bytes(struct pk_writer *w, const void *bytes, size_t n);
void pk_writer_u64(struct pk_writer *w, uint64_t v);
/* jmp rel32 to @target; -ERANGE in w->err when it does not reach. */
void pk_writer_jmp(struct pk_writer *w, uint64_t target);
/* jmp qword [rip + disp32] to the 8-byte literal that will run at @lit_pc. */
void pk_writer_jmp_mem(struct pk_writer *w, uint64_t lit_pc);
/* call qword [rip + disp32] through the literal at @lit_pc. */
void pk_writer_call_mem(struct pk_writer *w, uint64_t lit_pc);
/* lea rsp, [rsp + @delta] with a 32-bit displacement. */
void pk_writer_lea_rsp32(struct pk_writer *w, int32_t delta);
/* push qword [rip + disp32] of the literal at @lit_pc. */
void pk_writer_push_mem(struct pk_writer *w, uint64_t lit_pc);
/* lea rsp, [rsp + @delta] (flags untouched, unlike add/sub). */
void pk_writer_lea_rsp(struct pk_writer *w, int8_t delta);
/* mov qword fs:[@off], 0 */
void pk_writer_clear_fs(struct pk_writer *w, int32_t off);
static inline uint64_t pk_writer_here(const struct pk_writer *w)
{
	return w->pc + w->len;
}

#endif /* PK_X86_INSN_H */
