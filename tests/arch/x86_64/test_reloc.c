/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 instruction layer as byte tables: decoding and classification,
 * relocation of RIP-relative operands, the code writer, and the emulation of
 * branches on struct pk_regs. Every expected value is written out in the
 * tables (with the disassembly beside it) rather than computed by the same
 * arithmetic as the library; where that is impractical, the assembler's label
 * arithmetic (tests/arch/x86_64/asm/reloc_samples.S) or the CPU itself is the oracle.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pk_test.h"
#include "probekit.h"
#include "insn.h"

/* Where the decode table's instructions sit, unless a row says otherwise. */
#define DPC 0x401000UL
/* A high address for rows whose rel32 targets would wrap below DPC. */
#define HPC 0x7f0000000000UL
/* Where the relocation table's instructions sit. */
#define RPC 0x7f0000100000UL
/* Where the writer table's buffers run. */
#define WPC 0x7f0000200000UL
/* Where emulated instructions sit. */
#define EPC 0x7f0000300000UL

/* A register as struct pk_regs index, the way struct pk_insn names them. */
#define RX(f) ((int)(offsetof(struct pk_regs, f) / sizeof(unsigned long)))

_Static_assert(PK_INSN_RELOC == 0 && PK_INSN_JMP == 1 && PK_INSN_JCC == 2 && PK_INSN_LOOP == 3 &&
		   PK_INSN_CALL == 4 && PK_INSN_JMP_IND == 5 && PK_INSN_CALL_IND == 6 &&
		   PK_INSN_RET == 7,
	       "tests/arch/x86_64/asm/reloc_samples.S numbers the kinds the same way");

/* clang-format off */
/* EFLAGS bits (Intel SDM vol. 1, 3.4.3). */
#define FL_CF    0x001UL
#define FL_PF    0x004UL
#define FL_AF    0x010UL
#define FL_ZF    0x040UL
#define FL_SF    0x080UL
#define FL_DF    0x400UL
#define FL_OF    0x800UL
#define FL_FIXED 0x202UL /* IF and the always-one bit 1 */
/* clang-format on */

/* "48 8d 05 ..." into @out; returns the byte count (more than @cap: bad table). */
static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	char *end;

	for (;;) {
		unsigned long v = strtoul(s, &end, 16);

		if (end == s)
			break;
		if (n < cap)
			out[n] = (uint8_t)v;
		n++;
		s = end;
	}
	return n;
}

static int hex_equals(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[64];
	size_t wn = parse_hex(want, w, sizeof(w));

	return wn == n && !memcmp(got, w, n);
}

static void print_hex(const char *what, const uint8_t *b, size_t n)
{
	size_t i;

	printf("  %s:", what);
	for (i = 0; i < n; i++)
		printf(" %02x", b[i]);
	printf("\n");
}

/*
 * Per-row failure reports inside one case: row_begin() sets the case's
 * failure flag aside, row_end() says whether this row failed and merges.
 */
static int row_begin(void)
{
	int saved = pk_t_failed_case;

	pk_t_failed_case = 0;
	return saved;
}

static int row_end(int saved)
{
	int failed = pk_t_failed_case;

	pk_t_failed_case |= saved;
	return failed;
}

/* ------------------------------------------------------------------------ */
/* Decoding and classification                                              */
/* ------------------------------------------------------------------------ */

/* clang-format off */
struct dec_row {
	const char *hex;
	int err;	/* expected return of pk_insn_decode */
	int kind;
	int len;
	int cc;
	int addr32;
	int doff;	/* RELOC: disp_off */
	uint64_t target;
	int ind;	/* *_IND: 1 register, 2 memory, 3 RIP-relative memory */
	int base, index, scale;
	int64_t disp;
	int ret_pop;
	uint64_t pc;	/* 0: DPC */
	int trunc;	/* the bytes are an incomplete instruction */
	int vlen;	/* its length depends on the CPU vendor: not checked */
};

#define NONE PK_REG_NONE

#define RELOC(h, l)		.hex = h, .kind = PK_INSN_RELOC, .len = l
#define RIPREL(h, l, o, t)	.hex = h, .kind = PK_INSN_RELOC, .len = l, .doff = o, .target = t
#define JMP(h, l, t)		.hex = h, .kind = PK_INSN_JMP, .len = l, .target = t
#define CALL(h, l, t)		.hex = h, .kind = PK_INSN_CALL, .len = l, .target = t
#define JCC(h, l, c, t)		.hex = h, .kind = PK_INSN_JCC, .len = l, .cc = c, .target = t
#define LOOP(h, l, c, a, t)	.hex = h, .kind = PK_INSN_LOOP, .len = l, .cc = c, .addr32 = a, .target = t
#define JMPR(h, l, b)		.hex = h, .kind = PK_INSN_JMP_IND, .len = l, .ind = 1, .base = b
#define CALLR(h, l, b)		.hex = h, .kind = PK_INSN_CALL_IND, .len = l, .ind = 1, .base = b
#define JMPM(h, l, b, i, s, d)                                                                     \
	.hex = h, .kind = PK_INSN_JMP_IND, .len = l, .ind = 2, .base = b, .index = i, .scale = s,  \
	.disp = d
#define CALLM(h, l, b, i, s, d)                                                                    \
	.hex = h, .kind = PK_INSN_CALL_IND, .len = l, .ind = 2, .base = b, .index = i, .scale = s, \
	.disp = d
#define JMPRIP(h, l, t)		.hex = h, .kind = PK_INSN_JMP_IND, .len = l, .ind = 3, .target = t
#define CALLRIP(h, l, t)	.hex = h, .kind = PK_INSN_CALL_IND, .len = l, .ind = 3, .target = t
#define RET(h, l, p)		.hex = h, .kind = PK_INSN_RET, .len = l, .ret_pop = p
#define UNSUPP(h)		.hex = h, .err = -EOPNOTSUPP
#define INVALID(h)		.hex = h, .err = -EILSEQ
#define TRUNC(h)		.hex = h, .err = -EILSEQ, .trunc = 1
/* clang-format on */

/* clang-format off */
static const struct dec_row dec_rows[] = {
	/* Prologues, epilogues, moves, ALU: run as they are. */
	{ RELOC("f3 0f 1e fa", 4) },				/* endbr64 */
	{ RELOC("55", 1) },					/* push rbp */
	{ RELOC("41 57", 2) },					/* push r15 */
	{ RELOC("53", 1) },					/* push rbx */
	{ RELOC("5d", 1) },					/* pop rbp */
	{ RELOC("41 5c", 2) },					/* pop r12 */
	{ RELOC("48 89 e5", 3) },				/* mov rbp, rsp */
	{ RELOC("49 89 fc", 3) },				/* mov r12, rdi */
	{ RELOC("48 89 7d f8", 4) },				/* mov qword [rbp-0x8], rdi */
	{ RELOC("8b 45 fc", 3) },				/* mov eax, dword [rbp-0x4] */
	{ RELOC("48 8b 04 24", 4) },				/* mov rax, qword [rsp] */
	{ RELOC("4c 8b 6c 24 08", 5) },				/* mov r13, qword [rsp+0x8] */
	{ RELOC("48 8b 84 24 00 01 00 00", 8) },		/* mov rax, qword [rsp+0x100] */
	{ RELOC("48 8d 44 24 10", 5) },				/* lea rax, [rsp+0x10] */
	{ RELOC("48 8d 04 cd 00 00 00 00", 8) },		/* lea rax, [rcx*8+0x0] */
	{ RELOC("4a 8d 04 3e", 4) },				/* lea rax, [rsi+r15*1] */
	{ RELOC("8d 47 01", 3) },				/* lea eax, [rdi+0x1] */
	{ RELOC("48 b8 88 77 66 55 44 33 22 11", 10) },		/* movabs rax, 0x1122334455667788 */
	{ RELOC("b8 01 00 00 00", 5) },				/* mov eax, 0x1 */
	{ RELOC("48 c7 c0 ff ff ff ff", 7) },			/* mov rax, 0xffffffffffffffff */
	{ RELOC("31 c0", 2) },					/* xor eax, eax */
	{ RELOC("48 83 ec 18", 4) },				/* sub rsp, 0x18 */
	{ RELOC("48 81 ec 08 01 00 00", 7) },			/* sub rsp, 0x108 */
	{ RELOC("48 83 c4 08", 4) },				/* add rsp, 0x8 */
	{ RELOC("c9", 1) },					/* leave */
	{ RELOC("48 85 c0", 3) },				/* test rax, rax */
	{ RELOC("3c 2f", 2) },					/* cmp al, 0x2f */
	{ RELOC("48 3d 00 10 00 00", 6) },			/* cmp rax, 0x1000 */
	{ RELOC("48 c1 e0 04", 4) },				/* shl rax, 0x4 */
	{ RELOC("48 d3 e8", 3) },				/* shr rax, cl */
	{ RELOC("48 0f c8", 3) },				/* bswap rax */

	/* nop forms, as padding and as gcc/clang alignment. */
	{ RELOC("90", 1) },					/* nop */
	{ RELOC("66 90", 2) },					/* xchg ax, ax */
	{ RELOC("0f 1f 00", 3) },				/* nop dword [rax] */
	{ RELOC("0f 1f 40 00", 4) },				/* nop dword [rax+0x0] */
	{ RELOC("0f 1f 44 00 00", 5) },				/* nop dword [rax+rax*1+0x0] */
	{ RELOC("66 0f 1f 44 00 00", 6) },			/* nop word [rax+rax*1+0x0] */
	{ RELOC("0f 1f 80 00 00 00 00", 7) },			/* nop dword [rax+0x0] */
	{ RELOC("0f 1f 84 00 00 00 00 00", 8) },		/* nop dword [rax+rax*1+0x0] */
	{ RELOC("66 0f 1f 84 00 00 00 00 00", 9) },		/* nop word [rax+rax*1+0x0] */
	{ RELOC("66 2e 0f 1f 84 00 00 00 00 00", 10) },		/* cs nop word [rax+rax*1+0x0] */
	{ RELOC("66 66 2e 0f 1f 84 00 00 00 00 00", 11) },	/* data16 cs nop word [rax+rax*1+0x0] */
	{ RELOC("66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", 15) }, /* 14 x data16, nop: 15 bytes, the limit */
	{ RELOC("f3 90", 2) },					/* pause */

	/* Atomics and string instructions. */
	{ RELOC("f0 48 0f b1 0a", 5) },				/* lock cmpxchg qword [rdx], rcx */
	{ RELOC("f0 0f b1 17", 4) },				/* lock cmpxchg dword [rdi], edx */
	{ RELOC("f0 48 0f c1 07", 5) },				/* lock xadd qword [rdi], rax */
	{ RELOC("f0 83 07 01", 4) },				/* lock add dword [rdi], 0x1 */
	{ RELOC("f0 48 0f c7 0e", 5) },				/* lock cmpxchg16b xmmword [rsi] */
	{ RELOC("48 87 07", 3) },				/* xchg qword [rdi], rax */
	{ RELOC("48 92", 2) },					/* xchg rdx, rax */
	{ RELOC("87 d1", 2) },					/* xchg ecx, edx */
	{ RELOC("0f ae f0", 3) },				/* mfence */
	{ RELOC("f3 a4", 2) },					/* rep movsb */
	{ RELOC("f3 48 ab", 3) },				/* rep stosq */
	{ RELOC("f3 48 a5", 3) },				/* rep movsq */
	{ RELOC("f3 a6", 2) },					/* repz cmpsb */
	{ RELOC("f2 ae", 2) },					/* repnz scasb */

	/* Multiplication, division, conditional moves and sets, extensions. */
	{ RELOC("48 0f af c2", 4) },				/* imul rax, rdx */
	{ RELOC("6b c0 0c", 3) },				/* imul eax, eax, 0xc */
	{ RELOC("69 c0 e8 03 00 00", 6) },			/* imul eax, eax, 0x3e8 */
	{ RELOC("48 f7 f1", 3) },				/* div rcx */
	{ RELOC("f7 7d fc", 3) },				/* idiv dword [rbp-0x4] */
	{ RELOC("48 99", 2) },					/* cqo */
	{ RELOC("99", 1) },					/* cdq */
	{ RELOC("48 98", 2) },					/* cdqe */
	{ RELOC("48 0f 44 c2", 4) },				/* cmove rax, rdx */
	{ RELOC("0f 4c c1", 3) },				/* cmovl eax, ecx */
	{ RELOC("48 0f 47 06", 4) },				/* cmova rax, qword [rsi] */
	{ RELOC("0f 94 c0", 3) },				/* sete al */
	{ RELOC("0f 9f c0", 3) },				/* setg al */
	{ RELOC("41 0f 95 c4", 4) },				/* setne r12b */
	{ RELOC("0f b6 c0", 3) },				/* movzx eax, al */
	{ RELOC("0f b7 07", 3) },				/* movzx eax, word [rdi] */
	{ RELOC("48 0f be c0", 4) },				/* movsx rax, al */
	{ RELOC("48 63 c7", 3) },				/* movsxd rax, edi */
	{ RELOC("f3 0f b8 c7", 4) },				/* popcnt eax, edi */
	{ RELOC("f3 48 0f bc c7", 5) },				/* tzcnt rax, rdi */

	/* SSE, AVX (VEX), AVX-512 (EVEX, disp8*N compression). */
	{ RELOC("0f 28 c1", 3) },				/* movaps xmm0, xmm1 */
	{ RELOC("0f 29 45 e0", 4) },				/* movaps xmmword [rbp-0x20], xmm0 */
	{ RELOC("f3 0f 6f 07", 4) },				/* movdqu xmm0, xmmword [rdi] */
	{ RELOC("66 0f ef c0", 4) },				/* pxor xmm0, xmm0 */
	{ RELOC("f2 0f 10 45 f8", 5) },				/* movsd xmm0, qword [rbp-0x8] */
	{ RELOC("f2 0f 59 c1", 4) },				/* mulsd xmm0, xmm1 */
	{ RELOC("f2 48 0f 2a c7", 5) },				/* cvtsi2sd xmm0, rdi */
	{ RELOC("66 0f 3a 0f c1 08", 6) },			/* palignr xmm0, xmm1, 0x8 */
	{ RELOC("c5 fe 6f 07", 4) },				/* vmovdqu ymm0, ymmword [rdi] */
	{ RELOC("c5 fe 7f 4e 20", 5) },				/* vmovdqu ymmword [rsi+0x20], ymm1 */
	{ RELOC("c5 f9 ef c0", 4) },				/* vpxor xmm0, xmm0, xmm0 */
	{ RELOC("c5 fd ef c0", 4) },				/* vpxor ymm0, ymm0, ymm0 */
	{ RELOC("c5 f8 77", 3) },				/* vzeroupper */
	{ RELOC("c4 e2 7d 58 c0", 5) },				/* vpbroadcastd ymm0, xmm0 */
	{ RELOC("c4 e3 7d 18 c1 01", 6) },			/* vinsertf128 ymm0, ymm0, xmm1, 0x1 */
	{ RELOC("62 f1 7e 48 6f 07", 6) },			/* vmovdqu32 zmm0, zmmword [rdi] */
	{ RELOC("62 f1 6d 48 ef 4f 01", 7) },			/* vpxord zmm1, zmm2, zmmword [rdi+0x40] */
	{ RELOC("62 f1 fd 48 ef c0", 6) },			/* vpxorq zmm0, zmm0, zmm0 */
	{ RELOC("62 f3 75 48 25 c2 11", 7) },			/* vpternlogd zmm0, zmm1, zmm2, 0x11 */
	{ RELOC("62 f1 7c 48 28 44 24 01", 8) },		/* vmovaps zmm0, zmmword [rsp+0x40] */

	/* fs/gs loads: the stack protector, TLS. Absolute, not RIP-relative. */
	{ RELOC("64 48 8b 04 25 28 00 00 00", 9) },		/* mov rax, qword fs:0x28 */
	{ RELOC("64 48 2b 04 25 28 00 00 00", 9) },		/* sub rax, qword fs:0x28 */
	{ RELOC("64 48 33 04 25 28 00 00 00", 9) },		/* xor rax, qword fs:0x28 */
	{ RELOC("64 48 8b 04 25 00 00 00 00", 9) },		/* mov rax, qword fs:0x0 */
	{ RELOC("64 8b 04 25 f8 ff ff ff", 8) },		/* mov eax, dword fs:[-0x8] */
	{ RELOC("64 48 8b 00", 4) },				/* mov rax, qword fs:[rax] */
	{ RELOC("65 48 8b 04 25 10 00 00 00", 9) },		/* mov rax, qword gs:0x10 */

	/* System and special. */
	{ RELOC("0f 05", 2) },					/* syscall */
	{ RELOC("0f a2", 2) },					/* cpuid */
	{ RELOC("0f 31", 2) },					/* rdtsc */
	{ RELOC("0f 01 f9", 3) },				/* rdtscp */
	{ RELOC("0f 01 d0", 3) },				/* xgetbv */
	{ RELOC("0f 0b", 2) },					/* ud2: defined, it raises #UD wherever it runs */

	/* RIP-relative operands: disp_off and the absolute operand address. */
	{ RIPREL("48 8d 05 10 00 00 00", 7, 3, 0x401017) },	/* lea rax, [rip+0x10] */
	{ RIPREL("4c 8d 3d f0 ff ff ff", 7, 3, 0x400ff7) },	/* lea r15, [rip-0x10] */
	{ RIPREL("48 8d 3d 00 00 00 00", 7, 3, 0x401007) },	/* lea rdi, [rip+0x0] */
	{ RIPREL("8b 05 00 01 00 00", 6, 2, 0x401106) },	/* mov eax, dword [rip+0x100] */
	{ RIPREL("48 8b 05 f0 ff ff ff", 7, 3, 0x400ff7) },	/* mov rax, qword [rip-0x10] */
	{ RIPREL("48 8b 05 ff ff ff 7f", 7, 3, 0x80401006) },	/* mov rax, qword [rip+0x7fffffff] */
	{ RIPREL("48 89 05 00 01 00 00", 7, 3, 0x401107) },	/* mov qword [rip+0x100], rax */
	{ RIPREL("c7 05 10 00 00 00 44 33 22 11", 10, 2, 0x40101a) },	/* mov dword [rip+0x10], 0x11223344 */
	{ RIPREL("48 c7 05 10 00 00 00 ff ff ff ff", 11, 3, 0x40101b) }, /* mov qword [rip+0x10], -1 */
	{ RIPREL("66 c7 05 10 00 00 00 34 12", 9, 3, 0x401019) },	/* mov word [rip+0x10], 0x1234 */
	{ RIPREL("c6 05 10 00 00 00 01", 7, 2, 0x401017) },	/* mov byte [rip+0x10], 0x1 */
	{ RIPREL("80 3d 10 00 00 00 7f", 7, 2, 0x401017) },	/* cmp byte [rip+0x10], 0x7f */
	{ RIPREL("83 3d 10 00 00 00 ff", 7, 2, 0x401017) },	/* cmp dword [rip+0x10], -1 */
	{ RIPREL("81 3d 10 00 00 00 00 10 00 00", 10, 2, 0x40101a) },	/* cmp dword [rip+0x10], 0x1000 */
	{ RIPREL("f6 05 10 00 00 00 01", 7, 2, 0x401017) },	/* test byte [rip+0x10], 0x1 */
	{ RIPREL("48 83 05 10 00 00 00 01", 8, 3, 0x401018) },	/* add qword [rip+0x10], 0x1 */
	{ RIPREL("f0 48 83 05 10 00 00 00 01", 9, 4, 0x401019) }, /* lock add qword [rip+0x10], 0x1 */
	{ RIPREL("f0 48 0f b1 0d 10 00 00 00", 9, 5, 0x401019) }, /* lock cmpxchg qword [rip+0x10], rcx */
	{ RIPREL("f0 48 0f c7 0d 10 00 00 00", 9, 5, 0x401019) }, /* lock cmpxchg16b xmmword [rip+0x10] */
	{ RIPREL("ff 05 10 00 00 00", 6, 2, 0x401016) },	/* inc dword [rip+0x10] */
	{ RIPREL("48 ff 05 10 00 00 00", 7, 3, 0x401017) },	/* inc qword [rip+0x10] */
	{ RIPREL("6b 05 10 00 00 00 0c", 7, 2, 0x401017) },	/* imul eax, dword [rip+0x10], 0xc */
	{ RIPREL("69 05 10 00 00 00 e8 03 00 00", 10, 2, 0x40101a) },	/* imul eax, dword [rip+0x10], 0x3e8 */
	{ RIPREL("0f b6 05 10 00 00 00", 7, 3, 0x401017) },	/* movzx eax, byte [rip+0x10] */
	{ RIPREL("48 63 05 10 00 00 00", 7, 3, 0x401017) },	/* movsxd rax, dword [rip+0x10] */
	{ RIPREL("48 3b 05 10 00 00 00", 7, 3, 0x401017) },	/* cmp rax, qword [rip+0x10] */
	{ RIPREL("48 0f 44 05 10 00 00 00", 8, 4, 0x401018) },	/* cmove rax, qword [rip+0x10] */
	{ RIPREL("f2 0f 10 05 10 00 00 00", 8, 4, 0x401018) },	/* movsd xmm0, qword [rip+0x10] */
	{ RIPREL("f2 0f 59 05 10 00 00 00", 8, 4, 0x401018) },	/* mulsd xmm0, qword [rip+0x10] */
	{ RIPREL("0f 28 05 10 00 00 00", 7, 3, 0x401017) },	/* movaps xmm0, xmmword [rip+0x10] */
	{ RIPREL("66 0f 6f 05 10 00 00 00", 8, 4, 0x401018) },	/* movdqa xmm0, xmmword [rip+0x10] */
	{ RIPREL("66 0f 3a 0f 05 10 00 00 00 08", 10, 5, 0x40101a) }, /* palignr xmm0, xmmword [rip+0x10], 0x8 */
	{ RIPREL("c5 fd 6f 05 10 00 00 00", 8, 4, 0x401018) },	/* vmovdqa ymm0, ymmword [rip+0x10] */
	{ RIPREL("c4 e2 7d 58 05 10 00 00 00", 9, 5, 0x401019) }, /* vpbroadcastd ymm0, dword [rip+0x10] */
	{ RIPREL("c4 e3 7d 18 05 10 00 00 00 01", 10, 5, 0x40101a) }, /* vinsertf128 ymm0, ymm0, xmmword [rip+0x10], 0x1 */
	{ RIPREL("62 f1 fd 48 6f 05 10 00 00 00", 10, 6, 0x40101a) }, /* vmovdqa64 zmm0, zmmword [rip+0x10] */
	{ RIPREL("62 f3 75 48 25 05 10 00 00 00 11", 11, 6, 0x40101b) }, /* vpternlogd zmm0, zmm1, zmmword [rip+0x10], 0x11 */
	{ RIPREL("ff 35 10 00 00 00", 6, 2, 0x401016) },	/* push qword [rip+0x10] */
	{ RIPREL("8f 05 10 00 00 00", 6, 2, 0x401016) },	/* pop qword [rip+0x10] */
	{ RIPREL("0f 1f 05 10 00 00 00", 7, 3, 0x401017) },	/* nop dword [rip+0x10] */
	{ RIPREL("0f 18 0d 10 00 00 00", 7, 3, 0x401017) },	/* prefetcht0 byte [rip+0x10] */
	{ RIPREL("64 48 8b 05 10 00 00 00", 8, 4, 0x401018) },	/* mov rax, qword fs:[rip+0x10] */
	{ RIPREL("48 8d 05 ff ff ff 7f", 7, 3, 0x7f0080000006), .pc = HPC },	/* lea rax, [rip+0x7fffffff] */
	{ RIPREL("48 8d 05 00 00 00 80", 7, 3, 0x7eff80000007), .pc = HPC },	/* lea rax, [rip-0x80000000] */

	/* jmp rel8/rel32, call rel32. */
	{ JMP("eb 10", 2, 0x401012) },				/* jmp 0x401012 */
	{ JMP("eb fe", 2, 0x401000) },				/* jmp 0x401000 (itself) */
	{ JMP("eb 80", 2, 0x400f82) },				/* jmp 0x400f82 */
	{ JMP("eb 7f", 2, 0x401081) },				/* jmp 0x401081 */
	{ JMP("e9 00 01 00 00", 5, 0x401105) },			/* jmp 0x401105 */
	{ JMP("e9 fb ef ff ff", 5, 0x400000) },			/* jmp 0x400000 */
	{ JMP("e9 ff ff ff 7f", 5, 0x7f0080000004), .pc = HPC },	/* jmp 0x7f0080000004 */
	{ JMP("e9 00 00 00 80", 5, 0x7eff80000005), .pc = HPC },	/* jmp 0x7eff80000005 */
	{ JMP("f2 e9 00 01 00 00", 6, 0x401106) },		/* bnd jmp 0x401106 */
	{ JMP("f2 eb 10", 3, 0x401013) },			/* bnd jmp 0x401013 */
	{ CALL("e8 00 01 00 00", 5, 0x401105) },		/* call 0x401105 */
	{ CALL("e8 00 00 00 00", 5, 0x401005) },		/* call 0x401005 (the next instruction) */
	{ CALL("e8 fb ef ff ff", 5, 0x400000) },		/* call 0x400000 */
	{ CALL("e8 ff ff ff 7f", 5, 0x7f0080000004), .pc = HPC },	/* call 0x7f0080000004 */
	{ CALL("f2 e8 00 01 00 00", 6, 0x401106) },		/* bnd call 0x401106 */
	{ CALL("66 66 48 e8 00 01 00 00", 8, 0x401108) },	/* data16 data16 rex.W call: the TLS __tls_get_addr padding; REX.W wins */
	{ UNSUPP("cd 03") },					/* int 0x3: in a slot it would pose as our own int3 */
	{ UNSUPP("f1") },					/* int1 */

	/* All 16 jcc, rel8. */
	{ JCC("70 10", 2, 0x0, 0x401012) },			/* jo 0x401012 */
	{ JCC("71 f0", 2, 0x1, 0x400ff2) },			/* jno 0x400ff2 */
	{ JCC("72 7f", 2, 0x2, 0x401081) },			/* jb 0x401081 */
	{ JCC("73 80", 2, 0x3, 0x400f82) },			/* jae 0x400f82 */
	{ JCC("74 00", 2, 0x4, 0x401002) },			/* je 0x401002 */
	{ JCC("75 fe", 2, 0x5, 0x401000) },			/* jne 0x401000 */
	{ JCC("76 10", 2, 0x6, 0x401012) },			/* jbe 0x401012 */
	{ JCC("77 f0", 2, 0x7, 0x400ff2) },			/* ja 0x400ff2 */
	{ JCC("78 10", 2, 0x8, 0x401012) },			/* js 0x401012 */
	{ JCC("79 f0", 2, 0x9, 0x400ff2) },			/* jns 0x400ff2 */
	{ JCC("7a 10", 2, 0xa, 0x401012) },			/* jp 0x401012 */
	{ JCC("7b f0", 2, 0xb, 0x400ff2) },			/* jnp 0x400ff2 */
	{ JCC("7c 10", 2, 0xc, 0x401012) },			/* jl 0x401012 */
	{ JCC("7d f0", 2, 0xd, 0x400ff2) },			/* jge 0x400ff2 */
	{ JCC("7e 10", 2, 0xe, 0x401012) },			/* jle 0x401012 */
	{ JCC("7f f0", 2, 0xf, 0x400ff2) },			/* jg 0x400ff2 */

	/* All 16 jcc, rel32. */
	{ JCC("0f 80 00 01 00 00", 6, 0x0, 0x401106) },		/* jo 0x401106 */
	{ JCC("0f 81 00 ff ff ff", 6, 0x1, 0x400f06) },		/* jno 0x400f06 */
	{ JCC("0f 82 00 01 00 00", 6, 0x2, 0x401106) },		/* jb 0x401106 */
	{ JCC("0f 83 00 ff ff ff", 6, 0x3, 0x400f06) },		/* jae 0x400f06 */
	{ JCC("0f 84 00 01 00 00", 6, 0x4, 0x401106) },		/* je 0x401106 */
	{ JCC("0f 85 00 ff ff ff", 6, 0x5, 0x400f06) },		/* jne 0x400f06 */
	{ JCC("0f 86 00 01 00 00", 6, 0x6, 0x401106) },		/* jbe 0x401106 */
	{ JCC("0f 87 00 ff ff ff", 6, 0x7, 0x400f06) },		/* ja 0x400f06 */
	{ JCC("0f 88 00 01 00 00", 6, 0x8, 0x401106) },		/* js 0x401106 */
	{ JCC("0f 89 00 ff ff ff", 6, 0x9, 0x400f06) },		/* jns 0x400f06 */
	{ JCC("0f 8a 00 01 00 00", 6, 0xa, 0x401106) },		/* jp 0x401106 */
	{ JCC("0f 8b 00 ff ff ff", 6, 0xb, 0x400f06) },		/* jnp 0x400f06 */
	{ JCC("0f 8c 00 01 00 00", 6, 0xc, 0x401106) },		/* jl 0x401106 */
	{ JCC("0f 8d 00 ff ff ff", 6, 0xd, 0x400f06) },		/* jge 0x400f06 */
	{ JCC("0f 8e 00 01 00 00", 6, 0xe, 0x401106) },		/* jle 0x401106 */
	{ JCC("0f 8f 00 ff ff ff", 6, 0xf, 0x400f06) },		/* jg 0x400f06 */
	{ JCC("0f 8f ff ff ff 7f", 6, 0xf, 0x7f0080000005), .pc = HPC },	/* jg 0x7f0080000005 */
	{ JCC("0f 8e 00 00 00 80", 6, 0xe, 0x7eff80000006), .pc = HPC },	/* jle 0x7eff80000006 */
	{ JCC("f2 74 10", 3, 0x4, 0x401013) },			/* bnd je 0x401013 */
	{ JCC("3e 74 10", 3, 0x4, 0x401013) },			/* je 0x401013 (ds: "taken" hint) */
	{ JCC("2e 0f 84 00 01 00 00", 7, 0x4, 0x401107) },	/* je 0x401107 (cs: "not taken" hint) */

	/* loopne/loope/loop/jrcxz (cc 0-3), and with 0x67 counting in ecx. */
	{ LOOP("e0 10", 2, 0, 0, 0x401012) },			/* loopne 0x401012 */
	{ LOOP("e1 f0", 2, 1, 0, 0x400ff2) },			/* loope 0x400ff2 */
	{ LOOP("e2 fe", 2, 2, 0, 0x401000) },			/* loop 0x401000 */
	{ LOOP("e3 10", 2, 3, 0, 0x401012) },			/* jrcxz 0x401012 */
	{ LOOP("67 e0 10", 3, 0, 1, 0x401013) },		/* addr32 loopne 0x401013 */
	{ LOOP("67 e1 10", 3, 1, 1, 0x401013) },		/* addr32 loope 0x401013 */
	{ LOOP("67 e2 f0", 3, 2, 1, 0x400ff3) },		/* addr32 loop 0x400ff3 */
	{ LOOP("67 e3 10", 3, 3, 1, 0x401013) },		/* jecxz 0x401013 */

	/* Indirect through a register. */
	{ JMPR("ff e0", 2, RX(ax)) },				/* jmp rax */
	{ JMPR("48 ff e0", 3, RX(ax)) },			/* rex.W jmp rax */
	{ JMPR("41 ff e3", 3, RX(r11)) },			/* jmp r11 */
	{ JMPR("41 ff e7", 3, RX(r15)) },			/* jmp r15 */
	{ JMPR("3e ff e0", 3, RX(ax)) },			/* notrack jmp rax */
	{ JMPR("f2 ff e0", 3, RX(ax)) },			/* bnd jmp rax */
	{ CALLR("ff d0", 2, RX(ax)) },				/* call rax */
	{ CALLR("ff d2", 2, RX(dx)) },				/* call rdx */
	{ CALLR("41 ff d3", 3, RX(r11)) },			/* call r11 */
	{ CALLR("3e 41 ff d3", 4, RX(r11)) },			/* notrack call r11 */

	/* Indirect through memory: jump tables, vtables, GOT. */
	{ JMPM("ff 24 c5 00 10 00 00", 7, NONE, RX(ax), 8, 0x1000) },	/* jmp qword [rax*8+0x1000] */
	{ JMPM("3e ff 24 c5 00 10 00 00", 8, NONE, RX(ax), 8, 0x1000) }, /* notrack jmp qword [rax*8+0x1000] */
	{ JMPM("ff 24 c5 f8 ff ff ff", 7, NONE, RX(ax), 8, -8) },	/* jmp qword [rax*8-0x8] */
	{ JMPM("42 ff 24 cd 00 10 00 00", 8, NONE, RX(r9), 8, 0x1000) }, /* jmp qword [r9*8+0x1000] */
	{ JMPM("ff 24 c2", 3, RX(dx), RX(ax), 8, 0) },		/* jmp qword [rdx+rax*8] */
	{ JMPM("ff 64 24 08", 4, RX(sp), NONE, 0, 8) },		/* jmp qword [rsp+0x8] */
	{ JMPM("41 ff 64 24 10", 5, RX(r12), NONE, 0, 0x10) },	/* jmp qword [r12+0x10] */
	{ JMPM("ff 24 25 00 10 00 00", 7, NONE, NONE, 0, 0x1000) },	/* jmp qword [0x1000] */
	{ JMPM("ff 20", 2, RX(ax), NONE, 0, 0) },		/* jmp qword [rax] */
	{ JMPM("41 ff 27", 3, RX(r15), NONE, 0, 0) },		/* jmp qword [r15] */
	{ CALLM("ff 14 c5 00 10 00 00", 7, NONE, RX(ax), 8, 0x1000) },	/* call qword [rax*8+0x1000] */
	{ CALLM("ff 54 c2 08", 4, RX(dx), RX(ax), 8, 8) },	/* call qword [rdx+rax*8+0x8] */
	{ CALLM("43 ff 14 fe", 4, RX(r14), RX(r15), 8, 0) },	/* call qword [r14+r15*8] */
	{ CALLM("41 ff 54 24 10", 5, RX(r12), NONE, 0, 0x10) },	/* call qword [r12+0x10] */
	{ CALLM("ff 50 08", 3, RX(ax), NONE, 0, 8) },		/* call qword [rax+0x8] */
	{ CALLM("ff 10", 2, RX(ax), NONE, 0, 0) },		/* call qword [rax] */
	{ CALLM("ff 90 f8 ff ff ff", 6, RX(ax), NONE, 0, -8) },	/* call qword [rax-0x8] */
	{ JMPRIP("ff 25 10 00 00 00", 6, 0x401016) },		/* jmp qword [rip+0x10] */
	{ JMPRIP("ff 25 f0 ff ff ff", 6, 0x400ff6) },		/* jmp qword [rip-0x10] */
	{ JMPRIP("3e ff 25 10 00 00 00", 7, 0x401017) },	/* notrack jmp qword [rip+0x10] */
	{ JMPRIP("f2 ff 25 10 00 00 00", 7, 0x401017) },	/* bnd jmp qword [rip+0x10] (IBT PLT) */
	{ JMPRIP("48 ff 25 10 00 00 00", 7, 0x401017) },	/* rex.W jmp qword [rip+0x10] */
	{ CALLRIP("ff 15 10 00 00 00", 6, 0x401016) },		/* call qword [rip+0x10] (-fno-plt) */
	{ CALLRIP("ff 15 00 00 00 80", 6, 0x7eff80000006), .pc = HPC },	/* call qword [rip-0x80000000] */

	/* Returns. */
	{ RET("c3", 1, 0) },					/* ret */
	{ RET("c2 10 00", 3, 16) },				/* ret 0x10 */
	{ RET("c2 08 00", 3, 8) },				/* ret 0x8 */
	{ RET("c2 ff ff", 3, 0xffff) },				/* ret 0xffff */
	{ RET("f2 c3", 2, 0) },					/* bnd ret */
	{ RET("f3 c3", 2, 0) },					/* repz ret (old gcc, for AMD) */
	{ RET("f2 c2 10 00", 4, 16) },				/* bnd ret 0x10 */

	/* Neither relocatable nor emulable. */
	{ UNSUPP("cc") },					/* int3 */
	{ UNSUPP("c7 f8 00 01 00 00") },			/* xbegin 0x401106 */
	{ UNSUPP("ff 2c 25 00 10 00 00") },			/* jmp far [0x1000] (ff /5) */
	{ UNSUPP("ff 28") },					/* jmp far [rax] */
	{ UNSUPP("48 ff 28") },					/* rex.W jmp far [rax] (m16:64) */
	{ UNSUPP("ff 2d 10 00 00 00") },			/* jmp far [rip+0x10] */
	{ UNSUPP("ff 18") },					/* call far [rax] (ff /3) */
	{ UNSUPP("48 ff 1c 24") },				/* rex.W call far [rsp] */
	{ UNSUPP("ff 1d 10 00 00 00") },			/* call far [rip+0x10] */
	{ UNSUPP("48 cf") },					/* iretq */
	{ UNSUPP("cf") },					/* iretd */
	{ UNSUPP("66 cf") },					/* iretw */
	{ UNSUPP("48 0f 07") },					/* sysretq */
	{ UNSUPP("0f 35") },					/* sysexit */
	{ UNSUPP("64 ff 20") },					/* jmp qword fs:[rax] */
	{ UNSUPP("64 ff 24 25 00 00 00 00") },			/* jmp qword fs:0x0 */
	{ UNSUPP("65 ff 10") },					/* call qword gs:[rax] */
	{ UNSUPP("65 ff 15 10 00 00 00") },			/* call qword gs:[rip+0x10] */
	{ UNSUPP("67 ff 20") },					/* jmp qword [eax] */
	{ UNSUPP("67 ff 25 10 00 00 00") },			/* jmp qword [eip+0x10] */
	{ UNSUPP("67 ff 14 c5 00 10 00 00") },			/* call qword [eax*8+0x1000] */
	{ UNSUPP("67 8b 05 10 00 00 00") },			/* mov eax, dword [eip+0x10] */
	/*
	 * A 0x66 prefix on a near branch: Intel ignores it (what Zydis
	 * decodes), AMD makes it a 16-bit branch that truncates rip to 16
	 * bits and pops/pushes 2 bytes. The length itself differs by vendor,
	 * so neither relocation nor emulation can be right everywhere.
	 */
	{ UNSUPP("66 e9 10 00 00 00"), .vlen = 1 },		/* jmp rel16 (AMD: 66 e9 10 00, 4 bytes) */
	{ UNSUPP("66 e8 10 00 00 00"), .vlen = 1 },		/* call rel16 */
	{ UNSUPP("66 eb 10"), .vlen = 1 },			/* jmp rel8 with a 16-bit ip */
	{ UNSUPP("66 0f 84 10 00 00 00"), .vlen = 1 },		/* je rel16 */
	{ UNSUPP("66 ff e0"), .vlen = 1 },			/* jmp ax */
	{ UNSUPP("66 c3"), .vlen = 1 },				/* retw: pops 2 bytes */

	/* Undefined in 64-bit mode: Zydis rejects each (objdump too, bar the lock rows). */
	{ INVALID("06") },					/* (push es) */
	{ INVALID("0e") },					/* (push cs) */
	{ INVALID("27") },					/* (daa) */
	{ INVALID("37") },					/* (aaa) */
	{ INVALID("60") },					/* (pusha) */
	{ INVALID("d4 0a") },					/* (aam) */
	{ INVALID("d6") },					/* (salc) */
	{ INVALID("ea 00 00 00 00 00 00") },			/* (jmp far ptr16:32) */
	{ INVALID("9a 00 00 00 00 00 00") },			/* (call far ptr16:32) */
	{ INVALID("0f 04") },					/* undefined 0f opcode */
	{ INVALID("0f 0a") },					/* undefined 0f opcode */
	{ INVALID("0f 38 ff c0") },				/* undefined 0f 38 opcode */
	{ INVALID("ff ff") },					/* ff /7 */
	{ INVALID("ff 38") },					/* ff /7 */
	{ INVALID("8d c0") },					/* lea eax, eax: register operand */
	{ INVALID("f0 90") },					/* lock nop: not lockable */
	{ INVALID("f0 48 8b 07") },				/* lock mov rax, [rdi] */
	{ INVALID("c4 e2 79 ff c0") },				/* undefined VEX 0f38 opcode */
	{ INVALID("62 f1 7c 48 ff c0") },			/* undefined EVEX opcode */
	{ INVALID("66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90") }, /* 16 bytes: over the limit */

	/* Cut short: the bytes given are all the decoder may read. */
	{ TRUNC("") },						/* nothing */
	{ TRUNC("66") },					/* a prefix alone */
	{ TRUNC("48") },					/* a REX alone */
	{ TRUNC("0f") },					/* an escape alone */
	{ TRUNC("0f ff") },					/* ud0 without its ModRM */
	{ TRUNC("e8 00 00") },					/* call rel32, 2 of 4 bytes */
	{ TRUNC("0f 84 00 00 00") },				/* je rel32, 3 of 4 bytes */
	{ TRUNC("48 8d 05 00 00") },				/* lea rax, [rip+...], 2 of 4 bytes */
	{ TRUNC("c7 05 10 00 00 00 44 33 22") },		/* mov dword [rip+0x10], imm32: 3 of 4 */
	{ TRUNC("f2 0f 10 05 10 00 00") },			/* movsd xmm0, [rip+...]: 3 of 4 */
	{ TRUNC("62 f1 7e 48") },				/* EVEX prefix alone */
	{ TRUNC("ff 25 10 00") },				/* jmp qword [rip+...]: 2 of 4 */
};
/* clang-format on */

/* One row, with exactly its bytes available (@padded: 16, the rest int3). */
static void check_decode_row(const struct dec_row *r, size_t row, int padded)
{
	uint64_t pc = r->pc ? r->pc : DPC;
	struct pk_insn insn;
	uint8_t bytes[32];
	size_t n = parse_hex(r->hex, bytes, sizeof(bytes));
	size_t avail = padded ? 16 : n;
	/* Exactly @avail bytes on the heap, so that ASan sees any read past them. */
	uint8_t *buf = malloc(avail ? avail : 1);
	int ret, len, saved;

	CHECK(n <= 16);
	if (!buf || n > 16) {
		free(buf);
		return;
	}
	saved = row_begin();
	memset(buf, 0xcc, avail);
	memcpy(buf, bytes, n);
	memset(&insn, 0x5a, sizeof(insn));
	ret = pk_insn_decode(buf, avail, pc, &insn);
	CHECK_EQ(ret, r->err);
	len = pk_insn_length(buf, avail);

	if (r->err == -EILSEQ) {
		CHECK_EQ(len, -EILSEQ);
	} else if (r->err) {
		/* Valid, just not probeable: boundary walks must still step over it. */
		if (!r->vlen)
			CHECK_EQ(len, (int)n);
	} else if (!ret) {
		CHECK_EQ(n, r->len);
		CHECK_EQ(len, r->len);
		CHECK_EQ(insn.len, r->len);
		CHECK(!memcmp(insn.bytes, bytes, r->len));
		CHECK_EQ(insn.pc, pc);
		CHECK_EQ(insn.kind, r->kind);
		switch (r->kind) {
		case PK_INSN_RELOC:
			CHECK_EQ(insn.disp_off, r->doff);
			if (r->doff)
				CHECK_EQ(insn.target, r->target);
			break;
		case PK_INSN_JCC:
		case PK_INSN_LOOP:
			CHECK_EQ(insn.cc, r->cc);
			CHECK_EQ(insn.addr32, r->addr32);
			/* fall through */
		case PK_INSN_JMP:
		case PK_INSN_CALL: CHECK_EQ(insn.target, r->target); break;
		case PK_INSN_JMP_IND:
		case PK_INSN_CALL_IND:
			CHECK_EQ(insn.ind_mem, r->ind != 1);
			if (r->ind == 1) {
				CHECK_EQ(insn.base, r->base);
			} else if (r->ind == 2) {
				CHECK_EQ(insn.base, r->base);
				CHECK_EQ(insn.index, r->index);
				if (r->index != NONE)
					CHECK_EQ(insn.scale, r->scale);
				CHECK_EQ(insn.disp, r->disp);
			} else {
				CHECK_EQ(insn.base, NONE);
				CHECK_EQ(insn.index, NONE);
				CHECK_EQ(insn.target, r->target);
			}
			break;
		case PK_INSN_RET: CHECK_EQ(insn.ret_pop, r->ret_pop); break;
		}
	}
	if (row_end(saved))
		printf("  decode row %zu (%s): \"%s\"\n", row, padded ? "padded" : "exact", r->hex);
	free(buf);
}

static void test_decode_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(dec_rows) / sizeof(dec_rows[0]); i++) {
		check_decode_row(&dec_rows[i], i, 0);
		if (!dec_rows[i].trunc)
			check_decode_row(&dec_rows[i], i, 1);
	}
}

/* ------------------------------------------------------------------------ */
/* Relocation                                                               */
/* ------------------------------------------------------------------------ */

/*
 * RIP-relative instructions decoded at RPC, relocated to @to. The edge rows
 * put the slot where the new displacement is exactly INT32_MAX or INT32_MIN;
 * the rows after them are one byte further, out of reach. The displacement
 * is relative to the end of the instruction, immediate included.
 */
/* clang-format off */
#define R_LEA        "48 8d 05 00 01 00 00"				/* lea rax, [rip+0x100] -> 0x7f0000100107 */
#define R_MOVL       "8b 05 f0 ff ff ff"				/* mov eax, dword [rip-0x10] -> 0x7f00000ffff6 */
#define R_MOVL_IMM   "c7 05 10 00 00 00 44 33 22 11"		/* mov dword [rip+0x10], 0x11223344 -> 0x7f000010001a */
#define R_CMPB_IMM   "80 3d 10 00 00 00 7f"				/* cmp byte [rip+0x10], 0x7f -> 0x7f0000100017 */
#define R_MOVQ_IMM   "48 c7 05 00 01 00 00 ff ff ff ff"		/* mov qword [rip+0x100], 0xffffffffffffffff -> 0x7f000010010b */
#define R_MOVSD      "f2 0f 10 05 00 01 00 00"			/* movsd xmm0, qword [rip+0x100] -> 0x7f0000100108 */
#define R_VMOVDQA    "c5 fd 6f 05 00 01 00 00"			/* vmovdqa ymm0, ymmword [rip+0x100] -> 0x7f0000100108 */
#define R_TERNLOG    "62 f3 75 48 25 05 00 01 00 00 11"		/* vpternlogd zmm0, zmm1, zmmword [rip+0x100], 0x11 -> 0x7f000010010b */
#define R_PUSHM      "ff 35 00 01 00 00"				/* push qword [rip+0x100] -> 0x7f0000100106 */
#define R_CMPXCHG    "f0 48 0f b1 0d 00 01 00 00"			/* lock cmpxchg qword [rip+0x100], rcx -> 0x7f0000100109 */
#define R_IMUL_IMM   "69 05 00 01 00 00 e8 03 00 00"		/* imul eax, dword [rip+0x100], 0x3e8 -> 0x7f000010010a */
/* clang-format on */

struct reloc_row {
	const char *hex;
	uint64_t to;
	int ret;	 /* length, or -ERANGE */
	const char *out; /* the bytes to run at @to */
};

/* clang-format off */
static const struct reloc_row reloc_rows[] = {
	/* R_LEA: operand at 0x7f0000100107 */
	{ R_LEA, 0x7f0000100000, 7, "48 8d 05 00 01 00 00" },	/* lea rax, [rip+0x100] */
	{ R_LEA, 0x7f0000101000, 7, "48 8d 05 00 f1 ff ff" },	/* lea rax, [rip-0xf00] */
	{ R_LEA, 0x7eff80200000, 7, "48 8d 05 00 01 f0 7f" },	/* lea rax, [rip+0x7ff00100] */
	{ R_LEA, 0x7f0080000000, 7, "48 8d 05 00 01 10 80" },	/* lea rax, [rip-0x7fefff00] */
	{ R_LEA, 0x7eff80100101, 7, "48 8d 05 ff ff ff 7f" },	/* lea rax, [rip+0x7fffffff] */
	{ R_LEA, 0x7f0080100100, 7, "48 8d 05 00 00 00 80" },	/* lea rax, [rip-0x80000000] */
	{ R_LEA, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_LEA, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_MOVL: operand at 0x7f00000ffff6 */
	{ R_MOVL, 0x7f0000100000, 6, "8b 05 f0 ff ff ff" },	/* mov eax, dword [rip-0x10] */
	{ R_MOVL, 0x7f0000101000, 6, "8b 05 f0 ef ff ff" },	/* mov eax, dword [rip-0x1010] */
	{ R_MOVL, 0x7eff80200000, 6, "8b 05 f0 ff ef 7f" },	/* mov eax, dword [rip+0x7feffff0] */
	{ R_MOVL, 0x7eff800ffff1, 6, "8b 05 ff ff ff 7f" },	/* mov eax, dword [rip+0x7fffffff] */
	{ R_MOVL, 0x7f00800ffff0, 6, "8b 05 00 00 00 80" },	/* mov eax, dword [rip-0x80000000] */
	{ R_MOVL, 0x7eff800ffff0, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_MOVL, 0x7f00800ffff1, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_MOVL_IMM: operand at 0x7f000010001a */
	{ R_MOVL_IMM, 0x7f0000100000, 10, "c7 05 10 00 00 00 44 33 22 11" },	/* mov dword [rip+0x10], 0x11223344 */
	{ R_MOVL_IMM, 0x7f0000101000, 10, "c7 05 10 f0 ff ff 44 33 22 11" },	/* mov dword [rip-0xff0], 0x11223344 */
	{ R_MOVL_IMM, 0x7eff80200000, 10, "c7 05 10 00 f0 7f 44 33 22 11" },	/* mov dword [rip+0x7ff00010], 0x11223344 */
	{ R_MOVL_IMM, 0x7f0080000000, 10, "c7 05 10 00 10 80 44 33 22 11" },	/* mov dword [rip-0x7feffff0], 0x11223344 */
	{ R_MOVL_IMM, 0x7eff80100011, 10, "c7 05 ff ff ff 7f 44 33 22 11" },	/* mov dword [rip+0x7fffffff], 0x11223344 */
	{ R_MOVL_IMM, 0x7f0080100010, 10, "c7 05 00 00 00 80 44 33 22 11" },	/* mov dword [rip-0x80000000], 0x11223344 */
	{ R_MOVL_IMM, 0x7eff80100010, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_MOVL_IMM, 0x7f0080100011, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_CMPB_IMM: operand at 0x7f0000100017 */
	{ R_CMPB_IMM, 0x7f0000100000, 7, "80 3d 10 00 00 00 7f" },	/* cmp byte [rip+0x10], 0x7f */
	{ R_CMPB_IMM, 0x7f0000101000, 7, "80 3d 10 f0 ff ff 7f" },	/* cmp byte [rip-0xff0], 0x7f */
	{ R_CMPB_IMM, 0x7eff80200000, 7, "80 3d 10 00 f0 7f 7f" },	/* cmp byte [rip+0x7ff00010], 0x7f */
	{ R_CMPB_IMM, 0x7f0080000000, 7, "80 3d 10 00 10 80 7f" },	/* cmp byte [rip-0x7feffff0], 0x7f */
	{ R_CMPB_IMM, 0x7eff80100011, 7, "80 3d ff ff ff 7f 7f" },	/* cmp byte [rip+0x7fffffff], 0x7f */
	{ R_CMPB_IMM, 0x7f0080100010, 7, "80 3d 00 00 00 80 7f" },	/* cmp byte [rip-0x80000000], 0x7f */
	{ R_CMPB_IMM, 0x7eff80100010, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_CMPB_IMM, 0x7f0080100011, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_MOVQ_IMM: operand at 0x7f000010010b */
	{ R_MOVQ_IMM, 0x7f0000100000, 11, "48 c7 05 00 01 00 00 ff ff ff ff" },	/* mov qword [rip+0x100], 0xffffffffffffffff */
	{ R_MOVQ_IMM, 0x7f0000101000, 11, "48 c7 05 00 f1 ff ff ff ff ff ff" },	/* mov qword [rip-0xf00], 0xffffffffffffffff */
	{ R_MOVQ_IMM, 0x7eff80200000, 11, "48 c7 05 00 01 f0 7f ff ff ff ff" },	/* mov qword [rip+0x7ff00100], 0xffffffffffffffff */
	{ R_MOVQ_IMM, 0x7eff80100101, 11, "48 c7 05 ff ff ff 7f ff ff ff ff" },	/* mov qword [rip+0x7fffffff], 0xffffffffffffffff */
	{ R_MOVQ_IMM, 0x7f0080100100, 11, "48 c7 05 00 00 00 80 ff ff ff ff" },	/* mov qword [rip-0x80000000], 0xffffffffffffffff */
	{ R_MOVQ_IMM, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_MOVQ_IMM, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_MOVSD: operand at 0x7f0000100108 */
	{ R_MOVSD, 0x7f0000100000, 8, "f2 0f 10 05 00 01 00 00" },	/* movsd xmm0, qword [rip+0x100] */
	{ R_MOVSD, 0x7f0000101000, 8, "f2 0f 10 05 00 f1 ff ff" },	/* movsd xmm0, qword [rip-0xf00] */
	{ R_MOVSD, 0x7eff80200000, 8, "f2 0f 10 05 00 01 f0 7f" },	/* movsd xmm0, qword [rip+0x7ff00100] */
	{ R_MOVSD, 0x7eff80100101, 8, "f2 0f 10 05 ff ff ff 7f" },	/* movsd xmm0, qword [rip+0x7fffffff] */
	{ R_MOVSD, 0x7f0080100100, 8, "f2 0f 10 05 00 00 00 80" },	/* movsd xmm0, qword [rip-0x80000000] */
	{ R_MOVSD, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_MOVSD, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_VMOVDQA: operand at 0x7f0000100108 */
	{ R_VMOVDQA, 0x7f0000100000, 8, "c5 fd 6f 05 00 01 00 00" },	/* vmovdqa ymm0, ymmword [rip+0x100] */
	{ R_VMOVDQA, 0x7f0000101000, 8, "c5 fd 6f 05 00 f1 ff ff" },	/* vmovdqa ymm0, ymmword [rip-0xf00] */
	{ R_VMOVDQA, 0x7eff80200000, 8, "c5 fd 6f 05 00 01 f0 7f" },	/* vmovdqa ymm0, ymmword [rip+0x7ff00100] */
	{ R_VMOVDQA, 0x7eff80100101, 8, "c5 fd 6f 05 ff ff ff 7f" },	/* vmovdqa ymm0, ymmword [rip+0x7fffffff] */
	{ R_VMOVDQA, 0x7f0080100100, 8, "c5 fd 6f 05 00 00 00 80" },	/* vmovdqa ymm0, ymmword [rip-0x80000000] */
	{ R_VMOVDQA, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_VMOVDQA, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_TERNLOG: operand at 0x7f000010010b */
	{ R_TERNLOG, 0x7f0000100000, 11, "62 f3 75 48 25 05 00 01 00 00 11" },	/* vpternlogd zmm0, zmm1, zmmword [rip+0x100], 0x11 */
	{ R_TERNLOG, 0x7f0000101000, 11, "62 f3 75 48 25 05 00 f1 ff ff 11" },	/* vpternlogd zmm0, zmm1, zmmword [rip-0xf00], 0x11 */
	{ R_TERNLOG, 0x7eff80200000, 11, "62 f3 75 48 25 05 00 01 f0 7f 11" },	/* vpternlogd zmm0, zmm1, zmmword [rip+0x7ff00100], 0x11 */
	{ R_TERNLOG, 0x7f0080000000, 11, "62 f3 75 48 25 05 00 01 10 80 11" },	/* vpternlogd zmm0, zmm1, zmmword [rip-0x7fefff00], 0x11 */
	{ R_TERNLOG, 0x7eff80100101, 11, "62 f3 75 48 25 05 ff ff ff 7f 11" },	/* vpternlogd zmm0, zmm1, zmmword [rip+0x7fffffff], 0x11 */
	{ R_TERNLOG, 0x7f0080100100, 11, "62 f3 75 48 25 05 00 00 00 80 11" },	/* vpternlogd zmm0, zmm1, zmmword [rip-0x80000000], 0x11 */
	{ R_TERNLOG, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_TERNLOG, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_PUSHM: operand at 0x7f0000100106 */
	{ R_PUSHM, 0x7f0000100000, 6, "ff 35 00 01 00 00" },	/* push qword [rip+0x100] */
	{ R_PUSHM, 0x7f0000101000, 6, "ff 35 00 f1 ff ff" },	/* push qword [rip-0xf00] */
	{ R_PUSHM, 0x7eff80200000, 6, "ff 35 00 01 f0 7f" },	/* push qword [rip+0x7ff00100] */
	{ R_PUSHM, 0x7eff80100101, 6, "ff 35 ff ff ff 7f" },	/* push qword [rip+0x7fffffff] */
	{ R_PUSHM, 0x7f0080100100, 6, "ff 35 00 00 00 80" },	/* push qword [rip-0x80000000] */
	{ R_PUSHM, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_PUSHM, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_CMPXCHG: operand at 0x7f0000100109 */
	{ R_CMPXCHG, 0x7f0000100000, 9, "f0 48 0f b1 0d 00 01 00 00" },	/* lock cmpxchg qword [rip+0x100], rcx */
	{ R_CMPXCHG, 0x7f0000101000, 9, "f0 48 0f b1 0d 00 f1 ff ff" },	/* lock cmpxchg qword [rip-0xf00], rcx */
	{ R_CMPXCHG, 0x7eff80200000, 9, "f0 48 0f b1 0d 00 01 f0 7f" },	/* lock cmpxchg qword [rip+0x7ff00100], rcx */
	{ R_CMPXCHG, 0x7eff80100101, 9, "f0 48 0f b1 0d ff ff ff 7f" },	/* lock cmpxchg qword [rip+0x7fffffff], rcx */
	{ R_CMPXCHG, 0x7f0080100100, 9, "f0 48 0f b1 0d 00 00 00 80" },	/* lock cmpxchg qword [rip-0x80000000], rcx */
	{ R_CMPXCHG, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_CMPXCHG, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
	/* R_IMUL_IMM: operand at 0x7f000010010a */
	{ R_IMUL_IMM, 0x7f0000100000, 10, "69 05 00 01 00 00 e8 03 00 00" },	/* imul eax, dword [rip+0x100], 0x3e8 */
	{ R_IMUL_IMM, 0x7f0000101000, 10, "69 05 00 f1 ff ff e8 03 00 00" },	/* imul eax, dword [rip-0xf00], 0x3e8 */
	{ R_IMUL_IMM, 0x7eff80200000, 10, "69 05 00 01 f0 7f e8 03 00 00" },	/* imul eax, dword [rip+0x7ff00100], 0x3e8 */
	{ R_IMUL_IMM, 0x7f0080000000, 10, "69 05 00 01 10 80 e8 03 00 00" },	/* imul eax, dword [rip-0x7fefff00], 0x3e8 */
	{ R_IMUL_IMM, 0x7eff80100101, 10, "69 05 ff ff ff 7f e8 03 00 00" },	/* imul eax, dword [rip+0x7fffffff], 0x3e8 */
	{ R_IMUL_IMM, 0x7f0080100100, 10, "69 05 00 00 00 80 e8 03 00 00" },	/* imul eax, dword [rip-0x80000000], 0x3e8 */
	{ R_IMUL_IMM, 0x7eff80100100, -ERANGE, NULL },	/* disp would be 0x80000000 */
	{ R_IMUL_IMM, 0x7f0080100101, -ERANGE, NULL },	/* disp would be -0x80000001 */
};
/* clang-format on */

static void test_relocate_rip_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(reloc_rows) / sizeof(reloc_rows[0]); i++) {
		const struct reloc_row *r = &reloc_rows[i];
		int saved = row_begin();
		uint8_t in[16], out[32];
		struct pk_insn insn, again;
		size_t n = parse_hex(r->hex, in, sizeof(in));
		int ret;

		CHECK_EQ(pk_insn_decode(in, n, RPC, &insn), 0);
		CHECK_EQ(insn.kind, PK_INSN_RELOC);
		CHECK(insn.disp_off != 0);
		memset(out, 0xa5, sizeof(out));
		ret = pk_insn_relocate(&insn, out, r->to);
		CHECK_EQ(ret, r->ret);
		if (r->ret > 0 && ret == r->ret) {
			CHECK(hex_equals(out, ret, r->out));
			/* Nothing written past the instruction. */
			CHECK_EQ(out[ret], 0xa5);
			/* Decoded where it will run, it still reaches the same operand. */
			CHECK_EQ(pk_insn_decode(out, ret, r->to, &again), 0);
			CHECK_EQ(again.target, insn.target);
			CHECK_EQ(again.disp_off, insn.disp_off);
		}
		if (row_end(saved)) {
			printf("  reloc row %zu: \"%s\" to %#llx\n", i, r->hex,
			       (unsigned long long)r->to);
			if (ret > 0)
				print_hex("got", out, (size_t)ret);
		}
	}
}

/* Without a RIP-relative operand the bytes run unchanged anywhere. */
static void test_relocate_plain(void)
{
	/* clang-format off */
	static const uint64_t tos[] = {
		0, 1, DPC, DPC + 0x1000, DPC - 0x1000, 0x7fffffffffffUL, 0x800000000000UL,
		0xffffffff80000000UL, 0xfffffffffffffff0UL, HPC + 0x123456789UL,
	};
	/* clang-format on */
	size_t i, j, checked = 0;

	for (i = 0; i < sizeof(dec_rows) / sizeof(dec_rows[0]); i++) {
		const struct dec_row *r = &dec_rows[i];
		uint8_t in[16], out[32];
		struct pk_insn insn;
		size_t n;

		if (r->err || r->kind != PK_INSN_RELOC || r->doff)
			continue;
		n = parse_hex(r->hex, in, sizeof(in));
		if (pk_insn_decode(in, n, r->pc ? r->pc : DPC, &insn)) {
			CHECK(!"decodes");
			continue;
		}
		for (j = 0; j < sizeof(tos) / sizeof(tos[0]); j++) {
			int saved = row_begin();

			memset(out, 0xa5, sizeof(out));
			CHECK_EQ(pk_insn_relocate(&insn, out, tos[j]), (int)n);
			CHECK(!memcmp(out, in, n));
			CHECK_EQ(out[n], 0xa5);
			if (row_end(saved))
				printf("  \"%s\" to %#llx\n", r->hex, (unsigned long long)tos[j]);
		}
		checked++;
	}
	CHECK(checked > 100);
}

/* Branches, calls and returns are emulated, never relocated. */
static void test_relocate_not_reloc(void)
{
	size_t i, checked = 0;

	for (i = 0; i < sizeof(dec_rows) / sizeof(dec_rows[0]); i++) {
		const struct dec_row *r = &dec_rows[i];
		uint8_t in[16], out[32];
		struct pk_insn insn;
		size_t n;

		if (r->err || r->kind == PK_INSN_RELOC)
			continue;
		n = parse_hex(r->hex, in, sizeof(in));
		if (pk_insn_decode(in, n, r->pc ? r->pc : DPC, &insn))
			continue; /* already reported by test_decode_table */
		CHECK_EQ(pk_insn_relocate(&insn, out, DPC + 0x1000), -EINVAL);
		CHECK_EQ(pk_insn_relocate(&insn, out, insn.pc), -EINVAL);
		checked++;
	}
	CHECK(checked > 50);
}

/* ------------------------------------------------------------------------ */
/* The code writer                                                          */
/* ------------------------------------------------------------------------ */

enum { W_JMP, W_JMP_MEM, W_PUSH_MEM, W_LEA_RSP, W_CLEAR_FS, W_U64 };

/*
 * One writer call in a buffer running at WPC, after @pre bytes already
 * written, with capacity @cap (0: 32). rel32 operands are relative to the end
 * of the instruction being written, so the edges move with @pre.
 */
struct wr_row {
	int op;
	size_t pre;
	size_t cap;
	uint64_t arg;
	int err;
	const char *hex; /* the bytes the call appends */
};

/* clang-format off */
static const struct wr_row wr_rows[] = {
	{ W_JMP, 0, 0, 0x7f0000200005, 0, "e9 00 00 00 00" },	/* jmp 0x7f0000200005 */
	{ W_JMP, 0, 0, 0x7f0000200000, 0, "e9 fb ff ff ff" },	/* jmp 0x7f0000200000 */
	{ W_JMP, 0, 0, 0x7f0000201005, 0, "e9 00 10 00 00" },	/* jmp 0x7f0000201005 */
	{ W_JMP, 0, 0, 0x7f00001ff000, 0, "e9 fb ef ff ff" },	/* jmp 0x7f00001ff000 */
	{ W_JMP, 0, 0, 0x7f0080200004, 0, "e9 ff ff ff 7f" },	/* jmp 0x7f0080200004 */
	{ W_JMP, 0, 0, 0x7f0080200005, -ERANGE, NULL },	/* rel32 would be 0x80000000 */
	{ W_JMP, 0, 0, 0x7eff80200005, 0, "e9 00 00 00 80" },	/* jmp 0x7eff80200005 */
	{ W_JMP, 0, 0, 0x7eff80200004, -ERANGE, NULL },	/* rel32 would be -0x80000001 */
	{ W_JMP, 3, 0, 0x7f0080200007, 0, "e9 ff ff ff 7f" },	/* jmp 0x7f0080200007 */
	{ W_JMP, 3, 0, 0x7f0080200008, -ERANGE, NULL },	/* rel32 would be 0x80000000 */
	{ W_JMP, 3, 0, 0x7eff80200008, 0, "e9 00 00 00 80" },	/* jmp 0x7eff80200008 */
	{ W_JMP, 3, 0, 0x7eff80200007, -ERANGE, NULL },	/* rel32 would be -0x80000001 */
	{ W_JMP, 0, 0, 0x0, -ERANGE, NULL },	/* rel32 would be -0x7f0000200005 */
	{ W_JMP, 0, 0, 0xffffffffffffffff, -ERANGE, NULL },	/* rel32 would be -0x7f0000200006 */
	{ W_JMP_MEM, 0, 0, 0x7f0000200006, 0, "ff 25 00 00 00 00" },	/* jmp qword [rip+0x0] */
	{ W_JMP_MEM, 0, 0, 0x7f0000200016, 0, "ff 25 10 00 00 00" },	/* jmp qword [rip+0x10] */
	{ W_JMP_MEM, 8, 0, 0x7f0000200000, 0, "ff 25 f2 ff ff ff" },	/* jmp qword [rip-0xe] */
	{ W_JMP_MEM, 0, 0, 0x7f0080200005, 0, "ff 25 ff ff ff 7f" },	/* jmp qword [rip+0x7fffffff] */
	{ W_JMP_MEM, 0, 0, 0x7f0080200006, -ERANGE, NULL },	/* rel32 would be 0x80000000 */
	{ W_JMP_MEM, 0, 0, 0x7eff80200006, 0, "ff 25 00 00 00 80" },	/* jmp qword [rip-0x80000000] */
	{ W_JMP_MEM, 0, 0, 0x7eff80200005, -ERANGE, NULL },	/* rel32 would be -0x80000001 */
	{ W_PUSH_MEM, 0, 0, 0x7f000020000e, 0, "ff 35 08 00 00 00" },	/* push qword [rip+0x8] */
	{ W_PUSH_MEM, 5, 0, 0x7f0000200040, 0, "ff 35 35 00 00 00" },	/* push qword [rip+0x35] */
	{ W_PUSH_MEM, 0, 0, 0x7f0080200005, 0, "ff 35 ff ff ff 7f" },	/* push qword [rip+0x7fffffff] */
	{ W_PUSH_MEM, 0, 0, 0x7f0080200006, -ERANGE, NULL },	/* rel32 would be 0x80000000 */
	{ W_PUSH_MEM, 0, 0, 0x7eff80200006, 0, "ff 35 00 00 00 80" },	/* push qword [rip-0x80000000] */
	{ W_PUSH_MEM, 0, 0, 0x7eff80200005, -ERANGE, NULL },	/* rel32 would be -0x80000001 */
	{ W_LEA_RSP, 0, 0, -128, 0, "48 8d 64 24 80" },	/* lea rsp, [rsp-0x80] */
	{ W_LEA_RSP, 0, 0, -8, 0, "48 8d 64 24 f8" },	/* lea rsp, [rsp-0x8] */
	{ W_LEA_RSP, 0, 0, 0, 0, "48 8d 64 24 00" },	/* lea rsp, [rsp+0x0] */
	{ W_LEA_RSP, 0, 0, 8, 0, "48 8d 64 24 08" },	/* lea rsp, [rsp+0x8] */
	{ W_LEA_RSP, 0, 0, 127, 0, "48 8d 64 24 7f" },	/* lea rsp, [rsp+0x7f] */
	{ W_CLEAR_FS, 0, 0, 0x28, 0, "64 48 c7 04 25 28 00 00 00 00 00 00 00" },	/* mov qword fs:0x28, 0x0 */
	{ W_CLEAR_FS, 0, 0, -0x40, 0, "64 48 c7 04 25 c0 ff ff ff 00 00 00 00" },	/* mov qword fs:[-0x40], 0x0 */
	{ W_CLEAR_FS, 0, 0, -0x8, 0, "64 48 c7 04 25 f8 ff ff ff 00 00 00 00" },	/* mov qword fs:[-0x8], 0x0 */
	{ W_CLEAR_FS, 0, 0, 0x7fffffff, 0, "64 48 c7 04 25 ff ff ff 7f 00 00 00 00" },	/* mov qword fs:0x7fffffff, 0x0 */
	{ W_CLEAR_FS, 0, 0, INT32_MIN, 0, "64 48 c7 04 25 00 00 00 80 00 00 00 00" },	/* mov qword fs:[-0x80000000], 0x0 */
	{ W_U64, 0, 0, 0x1122334455667788, 0, "88 77 66 55 44 33 22 11" },	/* .quad 0x1122334455667788 */
	{ W_U64, 0, 0, 0x0, 0, "00 00 00 00 00 00 00 00" },	/* .quad 0x0 */
	{ W_U64, 0, 0, 0xffffffffffffffff, 0, "ff ff ff ff ff ff ff ff" },	/* .quad 0xffffffffffffffff */
	{ W_JMP, 0, 4, 0x7f0000200005, -ENOSPC, NULL },	/* 0 + 5 bytes > cap 4 */
	{ W_JMP, 0, 5, 0x7f0000200005, 0, "e9 00 00 00 00" },	/* jmp 0x7f0000200005 */
	{ W_JMP, 1, 5, 0x7f0000200005, -ENOSPC, NULL },	/* 1 + 5 bytes > cap 5 */
	{ W_JMP_MEM, 0, 5, 0x7f0000200006, -ENOSPC, NULL },	/* 0 + 6 bytes > cap 5 */
	{ W_JMP_MEM, 0, 6, 0x7f0000200006, 0, "ff 25 00 00 00 00" },	/* jmp qword [rip+0x0] */
	{ W_PUSH_MEM, 2, 7, 0x7f0000200008, -ENOSPC, NULL },	/* 2 + 6 bytes > cap 7 */
	{ W_LEA_RSP, 0, 4, -128, -ENOSPC, NULL },	/* 5 bytes > cap 4 */
	{ W_LEA_RSP, 0, 5, -128, 0, "48 8d 64 24 80" },	/* lea rsp, [rsp-0x80] */
	{ W_CLEAR_FS, 0, 12, 0x28, -ENOSPC, NULL },	/* 13 bytes > cap 12 */
	{ W_CLEAR_FS, 0, 13, 0x28, 0, "64 48 c7 04 25 28 00 00 00 00 00 00 00" },	/* mov qword fs:0x28, 0x0 */
	{ W_U64, 1, 8, 0x1122334455667788, -ENOSPC, NULL },	/* 1 + 8 bytes > cap 8 */
	{ W_U64, 0, 8, 0x1122334455667788, 0, "88 77 66 55 44 33 22 11" },	/* .quad 0x1122334455667788 */
};
/* clang-format on */

static void writer_op(struct pk_writer *w, int op, uint64_t arg)
{
	switch (op) {
	case W_JMP: pk_writer_jmp(w, arg); break;
	case W_JMP_MEM: pk_writer_jmp_mem(w, arg); break;
	case W_PUSH_MEM: pk_writer_push_mem(w, arg); break;
	case W_LEA_RSP: pk_writer_lea_rsp(w, (int8_t)arg); break;
	case W_CLEAR_FS: pk_writer_clear_fs(w, (int32_t)arg); break;
	case W_U64: pk_writer_u64(w, arg); break;
	}
}

/* What the written bytes mean to the decoder, where they will run. */
static void check_written_decodes(const struct wr_row *r, const uint8_t *b, size_t n)
{
	struct pk_insn insn;
	uint64_t pc = WPC + r->pre;

	switch (r->op) {
	case W_JMP:
		CHECK_EQ(pk_insn_decode(b, n, pc, &insn), 0);
		CHECK_EQ(insn.kind, PK_INSN_JMP);
		CHECK_EQ(insn.target, r->arg);
		break;
	case W_PUSH_MEM:
		CHECK_EQ(pk_insn_decode(b, n, pc, &insn), 0);
		CHECK_EQ(insn.kind, PK_INSN_RELOC);
		CHECK_EQ(insn.disp_off, 2);
		CHECK_EQ(insn.target, r->arg);
		break;
	case W_LEA_RSP:
	case W_CLEAR_FS:
		CHECK_EQ(pk_insn_decode(b, n, pc, &insn), 0);
		CHECK_EQ(insn.kind, PK_INSN_RELOC);
		CHECK_EQ(insn.len, n);
		CHECK_EQ(insn.disp_off, 0);
		break;
	default:
		/* jmp [rip+disp] is in the decode table; a literal is no instruction. */
		break;
	}
}

static void test_writer_table(void)
{
	size_t i, k;

	for (i = 0; i < sizeof(wr_rows) / sizeof(wr_rows[0]); i++) {
		const struct wr_row *r = &wr_rows[i];
		size_t cap = r->cap ? r->cap : 32;
		int saved = row_begin();
		uint8_t buf[64], want[32];
		struct pk_writer w;
		size_t n;

		memset(buf, 0xa5, sizeof(buf));
		pk_writer_init(&w, buf, cap, WPC);
		for (k = 0; k < r->pre; k++)
			pk_writer_bytes(&w, "\x90", 1);
		CHECK_EQ(w.err, 0);
		CHECK_EQ(w.len, r->pre);
		CHECK_EQ(pk_writer_here(&w), WPC + r->pre);
		writer_op(&w, r->op, r->arg);
		CHECK_EQ(w.err, r->err);
		if (!r->err) {
			n = parse_hex(r->hex, want, sizeof(want));
			CHECK_EQ(w.len, r->pre + n);
			CHECK(!memcmp(buf + r->pre, want, n));
			CHECK_EQ(buf[r->pre + n], 0xa5);
			CHECK_EQ(pk_writer_here(&w), WPC + r->pre + n);
			check_written_decodes(r, buf + r->pre, n);
		} else if (r->err == -ENOSPC) {
			/* Nothing is written past the capacity. */
			CHECK(w.len <= cap);
			CHECK_EQ(buf[cap], 0xa5);
		}
		if (row_end(saved)) {
			printf("  writer row %zu: op %d pre %zu arg %#llx\n", i, r->op, r->pre,
			       (unsigned long long)r->arg);
			print_hex("got", buf, w.len);
		}
	}
}

/* w->err keeps the first error; pk_writer_init starts afresh. */
static void test_writer_first_error(void)
{
	uint8_t buf[32];
	struct pk_writer w;

	pk_writer_init(&w, buf, 16, WPC);
	pk_writer_jmp(&w, 0);
	CHECK_EQ(w.err, -ERANGE);
	pk_writer_bytes(&w, buf, 17);
	CHECK_EQ(w.err, -ERANGE);

	pk_writer_init(&w, buf, 4, WPC);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, 0);
	pk_writer_jmp(&w, WPC + 5);
	CHECK_EQ(w.err, -ENOSPC);
	pk_writer_jmp(&w, 0);
	CHECK_EQ(w.err, -ENOSPC);
	CHECK(w.len <= 4);

	/* Exactly full is not overflow. */
	pk_writer_init(&w, buf, 3, WPC);
	pk_writer_bytes(&w, "\x0f\x0b\xcc", 3);
	CHECK_EQ(w.err, 0);
	CHECK_EQ(w.len, 3);
	CHECK(!memcmp(buf, "\x0f\x0b\xcc", 3));
	pk_writer_bytes(&w, "\xcc", 1);
	CHECK_EQ(w.err, -ENOSPC);
	CHECK_EQ(w.len, 3);
}

/*
 * A slot laid out as trap.c write_slot() lays out its second half: the
 * relocated instruction, then code around it, then the literals. Every
 * rel32 is relative to where its own instruction ends.
 */
static void test_writer_slot_sequence(void)
{
	static const char *const want =
	    "48 8d 05 00 01 f0 ff "		      /* lea rax, [rip-0xfff00] (relocated) */
	    "48 8d 64 24 80 "			      /* lea rsp, [rsp-0x80] */
	    "ff 35 18 00 00 00 "		      /* push qword [rip+0x18]: WPC+0x2a */
	    "ff 25 1a 00 00 00 "		      /* jmp qword [rip+0x1a]: WPC+0x32 */
	    "64 48 c7 04 25 f8 ff ff ff 00 00 00 00 " /* mov qword fs:[-0x8], 0x0 */
	    "e9 dd ff ef ff "			      /* jmp 0x7f0000100007 */
	    "88 77 66 55 44 33 22 11";		      /* WPC+0x2a: .quad 0x1122334455667788 */
	static const uint8_t lea[] = {0x48, 0x8d, 0x05, 0x00, 0x01, 0x00, 0x00};
	uint8_t code[16], buf[64];
	struct pk_insn insn;
	struct pk_writer w;
	int n;

	/* lea rax, [rip+0x100] at 0x7f0000100000: the operand is at 0x7f0000100107. */
	CHECK_EQ(pk_insn_decode(lea, sizeof(lea), 0x7f0000100000, &insn), 0);
	pk_writer_init(&w, buf, sizeof(buf), WPC);
	n = pk_insn_relocate(&insn, code, pk_writer_here(&w));
	CHECK_EQ(n, 7);
	if (n > 0)
		pk_writer_bytes(&w, code, (size_t)n);
	pk_writer_lea_rsp(&w, -128);
	pk_writer_push_mem(&w, WPC + 0x2a);
	pk_writer_jmp_mem(&w, WPC + 0x32);
	pk_writer_clear_fs(&w, -8);
	pk_writer_jmp(&w, 0x7f0000100007);
	CHECK_EQ(pk_writer_here(&w), WPC + 0x2a);
	pk_writer_u64(&w, 0x1122334455667788);
	CHECK_EQ(w.err, 0);
	CHECK(hex_equals(buf, w.len, want));
	if (!hex_equals(buf, w.len, want))
		print_hex("got", buf, w.len);
}

/* ------------------------------------------------------------------------ */
/* Emulation                                                                */
/* ------------------------------------------------------------------------ */

/* Every register distinct, so that a stray write shows. */
static void regs_fill(struct pk_regs *r)
{
	unsigned long *v = (unsigned long *)r;
	size_t i;

	for (i = 0; i < sizeof(*r) / sizeof(*v); i++)
		v[i] = 0x1111111100000000UL + i * 0x01010101UL;
	r->flags = FL_FIXED;
}

static void check_regs(const struct pk_regs *got, const struct pk_regs *want)
{
	const unsigned long *g = (const unsigned long *)got, *w = (const unsigned long *)want;
	size_t i;

	CHECK(!memcmp(got, want, sizeof(*got)));
	for (i = 0; i < sizeof(*got) / sizeof(*g); i++)
		if (g[i] != w[i])
			printf("  pk_regs[%zu]: got %#lx, want %#lx\n", i, g[i], w[i]);
}

static int decode_bytes(const uint8_t *b, size_t n, uint64_t pc, struct pk_insn *insn)
{
	int ret = pk_insn_decode(b, n, pc, insn);

	CHECK_EQ(ret, 0);
	if (ret)
		print_hex("does not decode", b, n);
	return ret;
}

static int decode_hex(const char *hex, uint64_t pc, struct pk_insn *insn)
{
	uint8_t b[16];

	return decode_bytes(b, parse_hex(hex, b, sizeof(b)), pc, insn);
}

static void put_le32(uint8_t *p, int32_t v)
{
	memcpy(p, &v, 4);
}

/* The stack the emulated calls and returns use: guard values everywhere. */
#define STK_N	    16
#define STK_FILL(i) (0x5a5a5a5a00000000UL + (i))

static void stack_fill(uint64_t *stk)
{
	size_t i;

	for (i = 0; i < STK_N; i++)
		stk[i] = STK_FILL(i);
}

/* Only stk[@slot] may have changed, to @val (@slot STK_N: nothing changed). */
static void check_stack(const uint64_t *stk, size_t slot, uint64_t val)
{
	size_t i;

	for (i = 0; i < STK_N; i++)
		CHECK_EQ(stk[i], i == slot ? val : STK_FILL(i));
}

/*
 * The Intel SDM's definitions of the 16 conditions (vol. 2, Jcc), each a
 * flag expression of its own, independent of the library's table.
 */
struct flags5 {
	int cf, pf, zf, sf, of;
};

static int cc_o(struct flags5 f)
{
	return f.of == 1;
}
static int cc_no(struct flags5 f)
{
	return f.of == 0;
}
static int cc_b(struct flags5 f)
{
	return f.cf == 1;
}
static int cc_ae(struct flags5 f)
{
	return f.cf == 0;
}
static int cc_e(struct flags5 f)
{
	return f.zf == 1;
}
static int cc_ne(struct flags5 f)
{
	return f.zf == 0;
}
static int cc_be(struct flags5 f)
{
	return f.cf == 1 || f.zf == 1;
}
static int cc_a(struct flags5 f)
{
	return f.cf == 0 && f.zf == 0;
}
static int cc_s(struct flags5 f)
{
	return f.sf == 1;
}
static int cc_ns(struct flags5 f)
{
	return f.sf == 0;
}
static int cc_p(struct flags5 f)
{
	return f.pf == 1;
}
static int cc_np(struct flags5 f)
{
	return f.pf == 0;
}
static int cc_l(struct flags5 f)
{
	return f.sf != f.of;
}
static int cc_ge(struct flags5 f)
{
	return f.sf == f.of;
}
static int cc_le(struct flags5 f)
{
	return f.zf == 1 || f.sf != f.of;
}
static int cc_g(struct flags5 f)
{
	return f.zf == 0 && f.sf == f.of;
}

/* clang-format off */
static const struct {
	const char *name;
	int (*taken)(struct flags5 f);
} cc_rows[16] = {
	{ "jo",  cc_o },	/* 0: OF = 1 */
	{ "jno", cc_no },	/* 1: OF = 0 */
	{ "jb",  cc_b },	/* 2: CF = 1 */
	{ "jae", cc_ae },	/* 3: CF = 0 */
	{ "je",  cc_e },	/* 4: ZF = 1 */
	{ "jne", cc_ne },	/* 5: ZF = 0 */
	{ "jbe", cc_be },	/* 6: CF = 1 or ZF = 1 */
	{ "ja",  cc_a },	/* 7: CF = 0 and ZF = 0 */
	{ "js",  cc_s },	/* 8: SF = 1 */
	{ "jns", cc_ns },	/* 9: SF = 0 */
	{ "jp",  cc_p },	/* a: PF = 1 */
	{ "jnp", cc_np },	/* b: PF = 0 */
	{ "jl",  cc_l },	/* c: SF != OF */
	{ "jge", cc_ge },	/* d: SF = OF */
	{ "jle", cc_le },	/* e: ZF = 1 or SF != OF */
	{ "jg",  cc_g },	/* f: ZF = 0 and SF = OF */
};
/* clang-format on */

/* Combination @m (0-31) of CF, PF, ZF, SF, OF, with AF and DF as noise. */
static struct flags5 flags_of(unsigned m, unsigned long *eflags)
{
	struct flags5 f = {m & 1, (m >> 1) & 1, (m >> 2) & 1, (m >> 3) & 1, (m >> 4) & 1};

	*eflags = FL_FIXED | (f.cf ? FL_CF : 0) | (f.pf ? FL_PF : 0) | (f.zf ? FL_ZF : 0) |
		  (f.sf ? FL_SF : 0) | (f.of ? FL_OF : 0) | (m % 3 ? 0 : FL_AF) |
		  (m % 5 ? 0 : FL_DF);
	return f;
}

/* Every condition, rel8 and rel32, under all 32 combinations of its flags. */
static void test_emulate_jcc(void)
{
	unsigned cc, form, m;

	for (cc = 0; cc < 16; cc++) {
		for (form = 0; form < 2; form++) {
			const uint8_t rel8[] = {(uint8_t)(0x70 | cc), 0x20};
			const uint8_t rel32[] = {0x0f, (uint8_t)(0x80 | cc), 0x00, 0x02, 0x00,
						 0x00};
			const uint8_t *b = form ? rel32 : rel8;
			size_t n = form ? sizeof(rel32) : sizeof(rel8);
			uint64_t target = EPC + n + (form ? 0x200 : 0x20);
			int seen[2] = {0, 0};
			struct pk_insn insn;

			if (decode_bytes(b, n, EPC, &insn))
				continue;
			CHECK_EQ(insn.kind, PK_INSN_JCC);
			CHECK_EQ(insn.cc, cc);
			CHECK_EQ(insn.target, target);
			for (m = 0; m < 32; m++) {
				int saved = row_begin();
				struct pk_regs regs, want;
				uint64_t fa = 0;
				struct flags5 f;
				int taken;

				regs_fill(&regs);
				f = flags_of(m, &regs.flags);
				regs.ip = EPC;
				taken = cc_rows[cc].taken(f);
				seen[taken] = 1;
				want = regs;
				want.ip = taken ? target : EPC + n;
				CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
				check_regs(&regs, &want);
				if (row_end(saved))
					printf(
					    "  %s rel%d, CF %d PF %d ZF %d SF %d OF %d: want %s\n",
					    cc_rows[cc].name, form ? 32 : 8, f.cf, f.pf, f.zf, f.sf,
					    f.of, taken ? "taken" : "not taken");
			}
			CHECK(seen[0] && seen[1]);
		}
	}
}

struct loop_row {
	const char *hex;
	unsigned long rcx;
	unsigned long flags; /* besides FL_FIXED */
	unsigned long rcx_out;
	int taken;
};

/*
 * At EPC, rel8 +0x10. With 0x67 the counter is ecx, and writing it clears
 * rcx[63:32] as every 32-bit register write does (the CPU agrees: see
 * test_emulate_loop_hw).
 */
/* clang-format off */
static const struct loop_row loop_rows[] = {
	{ "e2 10", 2, 0, 1, 1 },				/* loop: rcx 2 -> 1, taken */
	{ "e2 10", 2, FL_ZF, 1, 1 },				/* loop ignores ZF */
	{ "e2 10", 1, 0, 0, 0 },				/* loop: rcx 1 -> 0, falls through */
	{ "e2 10", 1, FL_ZF, 0, 0 },
	{ "e2 10", 0, 0, ~0UL, 1 },				/* loop: rcx 0 -> -1, taken */
	{ "e2 10", 0x100000000, 0, 0xffffffff, 1 },		/* all 64 bits count */
	{ "e1 10", 2, FL_ZF, 1, 1 },				/* loope: rcx 2 -> 1, ZF: taken */
	{ "e1 10", 2, 0, 1, 0 },				/* loope: no ZF: falls through */
	{ "e1 10", 1, FL_ZF, 0, 0 },				/* loope: rcx 0: falls through */
	{ "e1 10", 1, 0, 0, 0 },
	{ "e0 10", 2, 0, 1, 1 },				/* loopne: rcx 2 -> 1, no ZF: taken */
	{ "e0 10", 2, FL_ZF, 1, 0 },				/* loopne: ZF: falls through */
	{ "e0 10", 1, 0, 0, 0 },				/* loopne: rcx 0: falls through */
	{ "e0 10", 1, FL_ZF, 0, 0 },
	{ "e3 10", 0, 0, 0, 1 },				/* jrcxz: rcx 0: taken */
	{ "e3 10", 0, FL_ZF, 0, 1 },
	{ "e3 10", 1, 0, 1, 0 },				/* jrcxz: rcx 1: falls through */
	{ "e3 10", 0x100000000, 0, 0x100000000, 0 },		/* jrcxz: all 64 bits */
	{ "67 e3 10", 0x100000000, 0, 0x100000000, 1 },		/* jecxz: ecx 0: taken */
	{ "67 e3 10", 0, 0, 0, 1 },
	{ "67 e3 10", 1, 0, 1, 0 },				/* jecxz: ecx 1: falls through */
	{ "67 e3 10", 0xffffffff00000001, 0, 0xffffffff00000001, 0 },
	{ "67 e2 10", 2, 0, 1, 1 },				/* addr32 loop: ecx 2 -> 1 */
	{ "67 e2 10", 1, 0, 0, 0 },
	{ "67 e2 10", 0x100000002, 0, 1, 1 },			/* ecx 2 -> 1, rcx[63:32] cleared */
	{ "67 e2 10", 0x100000001, 0, 0, 0 },			/* ecx 1 -> 0, rcx[63:32] cleared */
	{ "67 e2 10", 0, 0, 0xffffffff, 1 },			/* ecx 0 -> 0xffffffff */
	{ "67 e1 10", 0x100000002, FL_ZF, 1, 1 },		/* addr32 loope */
	{ "67 e1 10", 2, 0, 1, 0 },
	{ "67 e0 10", 0x100000002, 0, 1, 1 },			/* addr32 loopne */
	{ "67 e0 10", 0x100000001, 0, 0, 0 },
	{ "67 e0 10", 2, FL_ZF, 1, 0 },
};
/* clang-format on */

static void test_emulate_loop(void)
{
	size_t i;

	for (i = 0; i < sizeof(loop_rows) / sizeof(loop_rows[0]); i++) {
		const struct loop_row *r = &loop_rows[i];
		int saved = row_begin();
		struct pk_regs regs, want;
		struct pk_insn insn;
		uint64_t fa = 0;

		if (decode_hex(r->hex, EPC, &insn)) {
			row_end(saved);
			continue;
		}
		CHECK_EQ(insn.kind, PK_INSN_LOOP);
		regs_fill(&regs);
		regs.ip = EPC;
		regs.cx = r->rcx;
		regs.flags |= r->flags;
		want = regs;
		want.cx = r->rcx_out;
		want.ip = r->taken ? EPC + insn.len + 0x10 : EPC + insn.len;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
		check_regs(&regs, &want);
		if (row_end(saved))
			printf("  loop row %zu: \"%s\" rcx %#lx flags %#lx\n", i, r->hex, r->rcx,
			       r->flags);
	}
}

/* call rel32: the return address goes just below the old sp. */
static void test_emulate_call_rel32(void)
{
	static const struct {
		const char *hex;
		uint64_t target;
	} rows[] = {
	    {"e8 00 01 00 00", EPC + 0x105},		/* call EPC+0x105 */
	    {"e8 fb ff ff ff", EPC},			/* call EPC (itself) */
	    {"e8 00 00 00 80", EPC + 5 - 0x80000000UL}, /* call EPC+5-0x80000000 */
	    {"f2 e8 00 01 00 00", EPC + 0x106},		/* bnd call EPC+0x106 */
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t stk[STK_N], fa = 0;
		struct pk_regs regs, want;
		struct pk_insn insn;

		if (decode_hex(rows[i].hex, EPC, &insn))
			continue;
		CHECK_EQ(insn.kind, PK_INSN_CALL);
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = EPC;
		regs.sp = (uintptr_t)&stk[8];
		want = regs;
		want.ip = rows[i].target;
		want.sp = (uintptr_t)&stk[7];
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
		check_regs(&regs, &want);
		check_stack(stk, 7, EPC + insn.len);
	}
}

/* jmp/call through a register: notrack and bnd change nothing here. */
static void test_emulate_ind_reg(void)
{
	static const struct {
		const char *hex;
		int reg;
		int call;
	} rows[] = {
	    {"ff e0", RX(ax), 0},	 /* jmp rax */
	    {"3e ff e0", RX(ax), 0},	 /* notrack jmp rax */
	    {"f2 ff e0", RX(ax), 0},	 /* bnd jmp rax */
	    {"41 ff e3", RX(r11), 0},	 /* jmp r11 */
	    {"41 ff e7", RX(r15), 0},	 /* jmp r15 */
	    {"ff d0", RX(ax), 1},	 /* call rax */
	    {"41 ff d3", RX(r11), 1},	 /* call r11 */
	    {"3e 41 ff d3", RX(r11), 1}, /* notrack call r11 */
	    {"ff d2", RX(dx), 1},	 /* call rdx */
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int saved = row_begin();
		uint64_t stk[STK_N], fa = 0;
		struct pk_regs regs, want;
		struct pk_insn insn;

		if (decode_hex(rows[i].hex, EPC, &insn)) {
			row_end(saved);
			continue;
		}
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = EPC;
		regs.sp = (uintptr_t)&stk[8];
		((unsigned long *)&regs)[rows[i].reg] = 0x7f00deadbee0UL + i;
		want = regs;
		want.ip = 0x7f00deadbee0UL + i;
		if (rows[i].call)
			want.sp -= 8;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
		check_regs(&regs, &want);
		check_stack(stk, rows[i].call ? 7 : STK_N, EPC + insn.len);
		if (row_end(saved))
			printf("  after \"%s\"\n", rows[i].hex);
	}
}

/* ff 25/ff 15 disp32 at @pc such that the operand is @operand. */
static void rip_ind_bytes(uint8_t *b, int call, uint64_t pc, uint64_t operand)
{
	b[0] = 0xff;
	b[1] = call ? 0x15 : 0x25;
	put_le32(b + 2, (int32_t)(operand - (pc + 6)));
}

/* jmp/call qword [rip+X], X a local variable holding the target: GOT, -fno-plt. */
static void test_emulate_rip_ind(void)
{
	static const int64_t dist[] = {0x100, -0x40, 0x7fff0000, -0x7fff0000};
	uint64_t stk[STK_N], var = 0x7f00cafe0000UL, fa = 0;
	size_t i;
	int call;

	for (call = 0; call < 2; call++) {
		for (i = 0; i < sizeof(dist) / sizeof(dist[0]); i++) {
			uint64_t pc = (uintptr_t)&var - 6 - (uint64_t)dist[i];
			struct pk_regs regs, want;
			struct pk_insn insn;
			uint8_t b[6];

			rip_ind_bytes(b, call, pc, (uintptr_t)&var);
			if (decode_bytes(b, sizeof(b), pc, &insn))
				continue;
			CHECK_EQ(insn.kind, call ? PK_INSN_CALL_IND : PK_INSN_JMP_IND);
			CHECK_EQ(insn.target, (uintptr_t)&var);
			stack_fill(stk);
			regs_fill(&regs);
			regs.ip = pc;
			regs.sp = (uintptr_t)&stk[8];
			want = regs;
			want.ip = var;
			if (call)
				want.sp -= 8;
			CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
			check_regs(&regs, &want);
			check_stack(stk, call ? 7 : STK_N, pc + 6);
		}
	}
}

/*
 * The same, with struct pk_insn filled in by hand as insn.h documents it, so
 * that the emulator is checked even where the decoder is wrong.
 */
static void test_emulate_rip_ind_prebuilt(void)
{
	uint64_t stk[STK_N], var = 0x7f00cafe0008UL, fa = 0;
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t gone = (uintptr_t)page + 0x10;
	int call;

	CHECK(page != MAP_FAILED);
	if (page == MAP_FAILED)
		return;
	munmap(page, 4096);
	for (call = 0; call < 2; call++) {
		uint64_t pc = (uintptr_t)&var - 0x106;
		struct pk_regs regs, want;
		struct pk_insn insn;

		memset(&insn, 0, sizeof(insn));
		rip_ind_bytes(insn.bytes, call, pc, (uintptr_t)&var);
		insn.len = 6;
		insn.kind = call ? PK_INSN_CALL_IND : PK_INSN_JMP_IND;
		insn.ind_mem = 1;
		insn.base = PK_REG_NONE;
		insn.index = PK_REG_NONE;
		insn.target = (uintptr_t)&var;
		insn.disp = (int64_t)insn.target;
		insn.pc = pc;
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = pc;
		regs.sp = (uintptr_t)&stk[8];
		want = regs;
		want.ip = var;
		if (call)
			want.sp -= 8;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
		check_regs(&regs, &want);
		check_stack(stk, call ? 7 : STK_N, pc + 6);

		/* The operand unmapped: nothing changes, the address is reported. */
		insn.target = gone;
		insn.disp = (int64_t)gone;
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = pc;
		regs.sp = (uintptr_t)&stk[8];
		want = regs;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), -EFAULT);
		CHECK_EQ(fa, gone);
		check_regs(&regs, &want);
		check_stack(stk, STK_N, 0);
	}
}

/* Global, so that with -no-pie its address fits a disp32 as in non-PIC jump tables. */
static uint64_t jump_table[4] = {0x7f0000aa0000UL, 0x7f0000aa1111UL, 0x7f0000aa2222UL,
				 0x7f0000aa3333UL};

/* jmp/call through memory: jump tables, vtables, the stack. */
static void test_emulate_ind_mem(void)
{
	uint64_t stk[STK_N],
	    local[4] = {0x7f0000bb0000UL, 0x7f0000bb1111UL, 0x7f0000bb2222UL, 0x7f0000bb3333UL};
	struct {
		const char *hex;
		int call;
		int reg1, reg2; /* registers to set (-1: none) */
		uint64_t val1, val2;
		uint64_t sp_slot; /* sp = &stk[sp_slot] */
		uint64_t dest;
	} rows[] = {
	    /* call qword [rax*8+0x100]: rax chosen so that the operand is local[1] */
	    {"ff 14 c5 00 01 00 00", 1, RX(ax), -1, ((uintptr_t)local - 0x100) / 8 + 1, 0, 8,
	     local[1]},
	    /* jmp qword [rax*8-0x8]: the operand is local[2] */
	    {"ff 24 c5 f8 ff ff ff", 0, RX(ax), -1, (uintptr_t)local / 8 + 3, 0, 8, local[2]},
	    /* call qword [rdx+rax*8+0x8]: local[3] */
	    {"ff 54 c2 08", 1, RX(dx), RX(ax), (uintptr_t)local, 2, 8, local[3]},
	    /* jmp qword [rdx+rax*8] */
	    {"ff 24 c2", 0, RX(dx), RX(ax), (uintptr_t)local, 1, 8, local[1]},
	    /* call qword [r14+r15*8]: r15 is pk_regs index 0 */
	    {"43 ff 14 fe", 1, RX(r14), RX(r15), (uintptr_t)local, 1, 8, local[1]},
	    /* jmp qword [r15] */
	    {"41 ff 27", 0, RX(r15), -1, (uintptr_t)&local[2], 0, 8, local[2]},
	    /* call qword [rax+0x8] */
	    {"ff 50 08", 1, RX(ax), -1, (uintptr_t)&local[2], 0, 8, local[3]},
	    /* call qword [rax-0x8] */
	    {"ff 90 f8 ff ff ff", 1, RX(ax), -1, (uintptr_t)&local[2], 0, 8, local[1]},
	    /* jmp qword [r12+0x10] */
	    {"41 ff 64 24 10", 0, RX(r12), -1, (uintptr_t)local, 0, 8, local[2]},
	    /* jmp qword [rsp+0x8]: stk[9] */
	    {"ff 64 24 08", 0, -1, -1, 0, 0, 8, STK_FILL(9)},
	    /* call qword [rsp+0x8]: read at the old sp, before the push */
	    {"ff 54 24 08", 1, -1, -1, 0, 0, 8, STK_FILL(9)},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int saved = row_begin();
		struct pk_regs regs, want;
		struct pk_insn insn;
		uint64_t fa = 0;

		if (decode_hex(rows[i].hex, EPC, &insn)) {
			row_end(saved);
			continue;
		}
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = EPC;
		regs.sp = (uintptr_t)&stk[rows[i].sp_slot];
		if (rows[i].reg1 >= 0)
			((unsigned long *)&regs)[rows[i].reg1] = rows[i].val1;
		if (rows[i].reg2 >= 0)
			((unsigned long *)&regs)[rows[i].reg2] = rows[i].val2;
		want = regs;
		want.ip = rows[i].dest;
		if (rows[i].call)
			want.sp -= 8;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
		check_regs(&regs, &want);
		check_stack(stk, rows[i].call ? rows[i].sp_slot - 1 : STK_N, EPC + insn.len);
		if (row_end(saved))
			printf("  after \"%s\"\n", rows[i].hex);
	}
}

/* The non-PIC jump table form, disp32 = the table's absolute address. */
static void test_emulate_jump_table(void)
{
	uint64_t stk[STK_N];
	int call, idx;

	if ((uintptr_t)jump_table > 0x7fffffff - sizeof(jump_table)) {
		printf("  jump_table at %p: beyond a disp32, not checked\n", (void *)jump_table);
		return;
	}
	for (call = 0; call < 2; call++) {
		for (idx = 0; idx < 4; idx++) {
			/* jmp/call qword [rax*8+jump_table] */
			uint8_t b[7] = {0xff, call ? 0x14 : 0x24, 0xc5};
			struct pk_regs regs, want;
			struct pk_insn insn;
			uint64_t fa = 0;

			put_le32(b + 3, (int32_t)(uintptr_t)jump_table);
			if (decode_bytes(b, sizeof(b), EPC, &insn))
				continue;
			stack_fill(stk);
			regs_fill(&regs);
			regs.ip = EPC;
			regs.ax = (unsigned long)idx;
			regs.sp = (uintptr_t)&stk[8];
			want = regs;
			want.ip = jump_table[idx];
			if (call)
				want.sp -= 8;
			CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
			check_regs(&regs, &want);
			check_stack(stk, call ? 7 : STK_N, EPC + 7);
		}
	}
	/* jmp qword [abs32]: no base, no index. */
	{
		uint8_t b[7] = {0xff, 0x24, 0x25};
		struct pk_regs regs, want;
		struct pk_insn insn;
		uint64_t fa = 0;

		put_le32(b + 3, (int32_t)(uintptr_t)&jump_table[3]);
		if (!decode_bytes(b, sizeof(b), EPC, &insn)) {
			regs_fill(&regs);
			regs.ip = EPC;
			want = regs;
			want.ip = jump_table[3];
			CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
			check_regs(&regs, &want);
		}
	}
}

/* ret pops the return address, ret imm16 that many bytes more. */
static void test_emulate_ret(void)
{
	static const struct {
		const char *hex;
		unsigned pop;
	} rows[] = {
	    {"c3", 0},		  /* ret */
	    {"c2 10 00", 16},	  /* ret 0x10 */
	    {"c2 08 00", 8},	  /* ret 0x8 */
	    {"f2 c3", 0},	  /* bnd ret */
	    {"f3 c3", 0},	  /* repz ret */
	    {"f2 c2 10 00", 16},  /* bnd ret 0x10 */
	    {"c2 ff ff", 0xffff}, /* ret 0xffff */
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int saved = row_begin();
		uint64_t stk[STK_N], fa = 0;
		struct pk_regs regs, want;
		struct pk_insn insn;

		if (decode_hex(rows[i].hex, EPC, &insn)) {
			row_end(saved);
			continue;
		}
		CHECK_EQ(insn.kind, PK_INSN_RET);
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = EPC;
		regs.sp = (uintptr_t)&stk[2];
		want = regs;
		want.ip = STK_FILL(2);
		want.sp = (uintptr_t)&stk[2] + 8 + rows[i].pop;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
		check_regs(&regs, &want);
		check_stack(stk, STK_N, 0);
		if (row_end(saved))
			printf("  after \"%s\"\n", rows[i].hex);
	}
}

/* An operand that cannot be read: -EFAULT, its address, nothing changed. */
static void test_emulate_fault(void)
{
	uint8_t *map =
	    mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t page, stk[STK_N];
	struct {
		const char *hex; /* "rip" for jmp qword [rip+X] at the unmapped page */
		uint64_t ea;
	} rows[4];
	size_t i;

	CHECK(map != MAP_FAILED);
	if (map == MAP_FAILED)
		return;
	/* The second page goes; the first stays, to straddle the boundary. */
	munmap(map + 4096, 4096);
	page = (uintptr_t)map + 4096;
	rows[0].hex = "rip";
	rows[0].ea = page + 0x10;
	rows[1].hex = "ff 10"; /* call qword [rax] */
	rows[1].ea = page + 0x20;
	rows[2].hex = "ff 24 c5 00 01 00 00"; /* jmp qword [rax*8+0x100] */
	rows[2].ea = page + 0x100;
	rows[3].hex = "ff 10"; /* call qword [rax]: 4 bytes mapped, 4 not */
	rows[3].ea = page - 4;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pk_regs regs, want;
		struct pk_insn insn;
		uint64_t fa = 0;
		int ret;

		/* The rip-relative one sits in the page below, within reach. */
		uint64_t pc = i ? EPC : page - 0x1000;

		if (!strcmp(rows[i].hex, "rip")) {
			uint8_t b[6];

			rip_ind_bytes(b, 0, pc, rows[i].ea);
			ret = decode_bytes(b, sizeof(b), pc, &insn);
		} else {
			ret = decode_hex(rows[i].hex, pc, &insn);
		}
		if (ret)
			continue;
		stack_fill(stk);
		regs_fill(&regs);
		regs.ip = pc;
		regs.sp = (uintptr_t)&stk[8];
		regs.ax = i == 2 ? (rows[i].ea - 0x100) / 8 : rows[i].ea;
		want = regs;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), -EFAULT);
		CHECK_EQ(fa, rows[i].ea);
		check_regs(&regs, &want);
		check_stack(stk, STK_N, 0);
	}

	/* ret with sp on the unmapped page. */
	{
		struct pk_regs regs, want;
		struct pk_insn insn;
		uint64_t fa = 0;

		if (!decode_hex("c3", EPC, &insn)) {
			regs_fill(&regs);
			regs.ip = EPC;
			regs.sp = page + 0x30;
			want = regs;
			CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), -EFAULT);
			CHECK_EQ(fa, page + 0x30);
			check_regs(&regs, &want);
		}
	}
	munmap(map, 4096);
}

/* A relocatable instruction is not the emulator's. */
static void test_emulate_reloc_einval(void)
{
	static const char *const hex[] = {
	    "55",		    /* push rbp */
	    "48 8d 05 10 00 00 00", /* lea rax, [rip+0x10] */
	    "0f 05",		    /* syscall */
	};
	size_t i;

	for (i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		struct pk_regs regs, want;
		struct pk_insn insn;
		uint64_t fa = 0;

		if (decode_hex(hex[i], EPC, &insn))
			continue;
		regs_fill(&regs);
		regs.ip = EPC;
		want = regs;
		CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), -EINVAL);
		check_regs(&regs, &want);
	}
}

/* ------------------------------------------------------------------------ */
/* The CPU as the oracle (tests/arch/x86_64/asm/reloc_samples.S)                        */
/* ------------------------------------------------------------------------ */

extern unsigned long (*const reloc_hw_jcc[16])(unsigned long flags);
extern const uint8_t *const reloc_hw_jcc_insn[16];

/*
 * Each stub runs one jcc rel8 with the given flags; the emulator gets the
 * very bytes the CPU ran, at their address. Checks the predicate table too.
 */
static void test_emulate_jcc_hw(void)
{
	unsigned cc, m;

	for (cc = 0; cc < 16; cc++) {
		const uint8_t *code = reloc_hw_jcc_insn[cc];
		struct pk_insn insn;

		if (decode_bytes(code, 16, (uintptr_t)code, &insn))
			continue;
		CHECK_EQ(insn.kind, PK_INSN_JCC);
		CHECK_EQ(insn.cc, cc);
		for (m = 0; m < 32; m++) {
			struct pk_regs regs;
			unsigned long eflags;
			struct flags5 f = flags_of(m, &eflags);
			int hw = (int)reloc_hw_jcc[cc](eflags);
			uint64_t fa = 0;

			regs_fill(&regs);
			regs.ip = (uintptr_t)code;
			regs.flags = eflags;
			CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
			CHECK_EQ(regs.ip == insn.target, hw);
			CHECK_EQ(regs.ip, hw ? insn.target : (uintptr_t)code + insn.len);
			CHECK_EQ(cc_rows[cc].taken(f), hw);
			if (regs.ip != (hw ? insn.target : (uintptr_t)code + insn.len) ||
			    cc_rows[cc].taken(f) != hw)
				printf("  %s with flags %#lx: CPU %s\n", cc_rows[cc].name, eflags,
				       hw ? "taken" : "not taken");
		}
	}
}

struct hw_loop_io {
	unsigned long rcx, flags, taken;
};

void reloc_hw_loopne(struct hw_loop_io *io);
void reloc_hw_loope(struct hw_loop_io *io);
void reloc_hw_loop(struct hw_loop_io *io);
void reloc_hw_jrcxz(struct hw_loop_io *io);
void reloc_hw_loopne32(struct hw_loop_io *io);
void reloc_hw_loope32(struct hw_loop_io *io);
void reloc_hw_loop32(struct hw_loop_io *io);
void reloc_hw_jecxz(struct hw_loop_io *io);
extern const uint8_t reloc_hw_loopne_insn[], reloc_hw_loope_insn[], reloc_hw_loop_insn[],
    reloc_hw_jrcxz_insn[], reloc_hw_loopne32_insn[], reloc_hw_loope32_insn[],
    reloc_hw_loop32_insn[], reloc_hw_jecxz_insn[];

/* The loop family, including what 0x67 does to rcx[63:32], as this CPU does it. */
static void test_emulate_loop_hw(void)
{
	static const struct {
		const char *name;
		void (*run)(struct hw_loop_io *io);
		const uint8_t *insn;
	} stubs[] = {
	    {"loopne", reloc_hw_loopne, reloc_hw_loopne_insn},
	    {"loope", reloc_hw_loope, reloc_hw_loope_insn},
	    {"loop", reloc_hw_loop, reloc_hw_loop_insn},
	    {"jrcxz", reloc_hw_jrcxz, reloc_hw_jrcxz_insn},
	    {"addr32 loopne", reloc_hw_loopne32, reloc_hw_loopne32_insn},
	    {"addr32 loope", reloc_hw_loope32, reloc_hw_loope32_insn},
	    {"addr32 loop", reloc_hw_loop32, reloc_hw_loop32_insn},
	    {"jecxz", reloc_hw_jecxz, reloc_hw_jecxz_insn},
	};
	/* clang-format off */
	static const unsigned long rcxs[] = {
		0, 1, 2, 3, 0xffffffff, 0x100000000, 0x100000001, 0x100000002,
		0xffffffff00000000, 0xffffffffffffffff,
	};
	/* clang-format on */
	size_t s, i, z;

	for (s = 0; s < sizeof(stubs) / sizeof(stubs[0]); s++) {
		struct pk_insn insn;

		if (decode_bytes(stubs[s].insn, 16, (uintptr_t)stubs[s].insn, &insn))
			continue;
		CHECK_EQ(insn.kind, PK_INSN_LOOP);
		for (i = 0; i < sizeof(rcxs) / sizeof(rcxs[0]); i++) {
			for (z = 0; z < 2; z++) {
				struct hw_loop_io io = {rcxs[i], FL_FIXED | (z ? FL_ZF : 0), 0};
				struct pk_regs regs;
				uint64_t fa = 0;
				int taken;

				stubs[s].run(&io);
				regs_fill(&regs);
				regs.ip = (uintptr_t)stubs[s].insn;
				regs.cx = rcxs[i];
				regs.flags = FL_FIXED | (z ? FL_ZF : 0);
				CHECK_EQ(pk_insn_emulate(&insn, &regs, &fa), 0);
				taken = regs.ip == insn.target;
				CHECK_EQ(taken, io.taken);
				CHECK_EQ(regs.cx, io.rcx);
				if (taken != (int)io.taken || regs.cx != io.rcx)
					printf("  %s, rcx %#lx, ZF %zu: CPU rcx %#lx %s, emulated "
					       "rcx %#lx %s\n",
					       stubs[s].name, rcxs[i], z, io.rcx,
					       io.taken ? "taken" : "not taken", regs.cx,
					       taken ? "taken" : "not taken");
			}
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The assembler as the oracle (tests/arch/x86_64/asm/reloc_samples.S)                  */
/* ------------------------------------------------------------------------ */

struct reloc_sample {
	uint64_t addr, len, target, kind;
};

extern const struct reloc_sample reloc_samples[], reloc_samples_end[];
extern const uint8_t reloc_sample_code[];

static void test_asm_samples(void)
{
	const struct reloc_sample *s;
	size_t count = 0;

	for (s = reloc_samples; s < reloc_samples_end; s++, count++) {
		const uint8_t *code = (const uint8_t *)(uintptr_t)s->addr;
		int saved = row_begin();
		struct pk_insn insn, again;
		uint8_t out[32];
		int ret = pk_insn_decode(code, 16, s->addr, &insn);

		CHECK_EQ(ret, 0);
		CHECK_EQ(pk_insn_length(code, 16), (int)s->len);
		if (!ret) {
			CHECK_EQ(insn.len, s->len);
			CHECK_EQ(insn.kind, s->kind);
			if (s->target)
				CHECK_EQ(insn.target, s->target);
			if (s->kind == PK_INSN_RELOC)
				CHECK_EQ(insn.disp_off != 0, s->target != 0);
			/* 64 KiB away, a RIP-relative operand still resolves the same. */
			if (s->kind == PK_INSN_RELOC && s->target) {
				CHECK_EQ(pk_insn_relocate(&insn, out, s->addr + 0x10000),
					 (int)s->len);
				CHECK_EQ(pk_insn_decode(out, s->len, s->addr + 0x10000, &again), 0);
				CHECK_EQ(again.target, s->target);
			}
		}
		if (row_end(saved)) {
			printf("  sample %zu at reloc_sample_code+%#lx:", count,
			       (unsigned long)(s->addr - (uintptr_t)reloc_sample_code));
			print_hex("bytes", code, s->len);
		}
	}
	CHECK(count >= 60);
}

/* A boundary walk with pk_insn_length lands on every sample, and only there. */
static void test_asm_samples_walk(void)
{
	const struct reloc_sample *s;
	uint64_t pc = (uintptr_t)reloc_sample_code;

	CHECK(&reloc_samples[0] < &reloc_samples_end[0]);
	for (s = reloc_samples; s < reloc_samples_end; s++) {
		int len = pk_insn_length((const uint8_t *)(uintptr_t)pc, 16);

		CHECK_EQ(pc, s->addr);
		CHECK_EQ(len, (int)s->len);
		if (pc != s->addr || len <= 0) {
			printf("  walk lost at sample %zu\n", (size_t)(s - reloc_samples));
			return;
		}
		pc += (uint64_t)len;
	}
}

int main(void)
{
	RUN(test_decode_table);
	RUN(test_relocate_rip_table);
	RUN(test_relocate_plain);
	RUN(test_relocate_not_reloc);
	RUN(test_writer_table);
	RUN(test_writer_first_error);
	RUN(test_writer_slot_sequence);
	RUN(test_emulate_jcc);
	RUN(test_emulate_jcc_hw);
	RUN(test_emulate_loop);
	RUN(test_emulate_loop_hw);
	RUN(test_emulate_call_rel32);
	RUN(test_emulate_ind_reg);
	RUN(test_emulate_rip_ind);
	RUN(test_emulate_rip_ind_prebuilt);
	RUN(test_emulate_ind_mem);
	RUN(test_emulate_jump_table);
	RUN(test_emulate_ret);
	RUN(test_emulate_fault);
	RUN(test_emulate_reloc_einval);
	RUN(test_asm_samples);
	RUN(test_asm_samples_walk);
	TEST_EXIT();
}
