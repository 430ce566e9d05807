/* SPDX-License-Identifier: MIT */
/*
 * Instructions for tests/test_reloc.c, laid out by the assembler, so that
 * the decoder's lengths and targets can be checked against the assembler's
 * own label arithmetic rather than against numbers written by hand.
 *
 * This file is linked into every test binary: every global is reloc_*.
 */
	.intel_syntax noprefix

/* enum pk_insn_kind, checked against insn.h by _Static_assert in the test. */
#define K_RELOC		0
#define K_JMP		1
#define K_JCC		2
#define K_LOOP		3
#define K_CALL		4
#define K_JMP_IND	5
#define K_CALL_IND	6
#define K_RET		7

/*
 * SAMPLE kind, target, instruction: assembles the instruction and records
 * { address, length, target, kind } in reloc_samples[]. The target is the
 * branch destination or the RIP-relative operand's address, 0 if none.
 */
.macro SAMPLE kind, target, insn:vararg
.Ls\@:
	\insn
.Le\@:
	.pushsection .data.rel.ro.reloc_samples, "aw"
	.quad .Ls\@, .Le\@ - .Ls\@, \target, \kind
	.popsection
.endm

	.section .data.rel.ro.reloc_samples, "aw"
	.balign 8
	.globl reloc_samples
reloc_samples:

	.data
	.balign 64
	.globl reloc_sample_data
reloc_sample_data:
	.zero 128

	/* Never executed: the test only decodes these bytes. */
	.section .text.reloc_samples, "ax", @progbits
	.globl reloc_sample_code
reloc_sample_code:
.Lback:
	SAMPLE K_RELOC, 0, endbr64
	SAMPLE K_RELOC, 0, push rbp
	SAMPLE K_RELOC, 0, push r15
	SAMPLE K_RELOC, 0, mov rbp, rsp
	SAMPLE K_RELOC, 0, sub rsp, 0x108
	SAMPLE K_RELOC, 0, mov qword ptr [rbp - 0x18], rdi
	SAMPLE K_RELOC, 0, mov rax, qword ptr fs:0x28
	SAMPLE K_RELOC, 0, sub rdx, qword ptr fs:0x28
	SAMPLE K_RELOC, 0, movabs rax, 0x1122334455667788
	SAMPLE K_RELOC, 0, lock cmpxchg qword ptr [rdx], rcx
	SAMPLE K_RELOC, 0, rep movsb
	SAMPLE K_RELOC, 0, rep stosq
	SAMPLE K_RELOC, 0, imul eax, dword ptr [rdi + rcx*4 + 0x10], 1000
	SAMPLE K_RELOC, 0, cmovne rax, qword ptr [rsi]
	SAMPLE K_RELOC, 0, vmovdqu ymm0, ymmword ptr [rdi]
	SAMPLE K_RELOC, 0, vpxord zmm1, zmm2, zmmword ptr [rdi + 0x40]
	SAMPLE K_RELOC, 0, vzeroupper
	SAMPLE K_RELOC, 0, .nops 10, 10
	SAMPLE K_RELOC, 0, .nops 11, 11
	SAMPLE K_RELOC, 0, leave
	SAMPLE K_RELOC, reloc_sample_data, lea rax, [rip + reloc_sample_data]
	SAMPLE K_RELOC, reloc_sample_data + 8, lea r15, [rip + reloc_sample_data + 8]
	SAMPLE K_RELOC, reloc_sample_data + 4, mov eax, dword ptr [rip + reloc_sample_data + 4]
	SAMPLE K_RELOC, reloc_sample_data, mov qword ptr [rip + reloc_sample_data], rax
	SAMPLE K_RELOC, reloc_sample_data + 16, mov dword ptr [rip + reloc_sample_data + 16], 0x11223344
	SAMPLE K_RELOC, reloc_sample_data + 24, mov qword ptr [rip + reloc_sample_data + 24], -1
	SAMPLE K_RELOC, reloc_sample_data + 1, cmp byte ptr [rip + reloc_sample_data + 1], 0x7f
	SAMPLE K_RELOC, reloc_sample_data + 2, mov word ptr [rip + reloc_sample_data + 2], 0x1234
	SAMPLE K_RELOC, reloc_sample_data + 8, lock add qword ptr [rip + reloc_sample_data + 8], 1
	SAMPLE K_RELOC, reloc_sample_data, movsd xmm0, qword ptr [rip + reloc_sample_data]
	SAMPLE K_RELOC, reloc_sample_data + 32, vmovdqa ymm0, ymmword ptr [rip + reloc_sample_data + 32]
	SAMPLE K_RELOC, reloc_sample_data + 64, vpternlogd zmm0, zmm1, zmmword ptr [rip + reloc_sample_data + 64], 0x11
	SAMPLE K_RELOC, reloc_sample_data, vinsertf128 ymm0, ymm0, xmmword ptr [rip + reloc_sample_data], 1
	SAMPLE K_RELOC, reloc_sample_data + 8, push qword ptr [rip + reloc_sample_data + 8]
	SAMPLE K_RELOC, reloc_sample_data, imul eax, dword ptr [rip + reloc_sample_data], 12
	SAMPLE K_RELOC, .Lback, lea rdi, [rip + .Lback]
	/* Backward rel8 branches need a target within 128 bytes. */
.Lnear:
	SAMPLE K_JMP, .Lnear, {disp8} jmp .Lnear
	SAMPLE K_JMP, .Lfwd, {disp32} jmp .Lfwd
	SAMPLE K_JMP, .Lfwd, bnd jmp .Lfwd
	SAMPLE K_JCC, .Lnear, {disp8} je .Lnear
	SAMPLE K_JCC, .Lfwd, {disp32} jne .Lfwd
	SAMPLE K_JCC, .Lfwd, jg .Lfwd
	SAMPLE K_JCC, .Lback, {disp32} jbe .Lback
	SAMPLE K_LOOP, .Lnear, loop .Lnear
	SAMPLE K_LOOP, .Lfwd, loope .Lfwd
	SAMPLE K_LOOP, .Lfwd, loopne .Lfwd
	SAMPLE K_LOOP, .Lnear, jrcxz .Lnear
	SAMPLE K_LOOP, .Lfwd, jecxz .Lfwd
	SAMPLE K_CALL, .Lfwd, call .Lfwd
	SAMPLE K_CALL, .Lback, call .Lback
	SAMPLE K_CALL, .Lback, bnd call .Lback
	SAMPLE K_JMP_IND, 0, notrack jmp rax
	SAMPLE K_JMP_IND, 0, jmp r11
	SAMPLE K_CALL_IND, 0, call r11
	SAMPLE K_JMP_IND, 0, notrack jmp qword ptr [rax*8 + 0x1000]
	SAMPLE K_CALL_IND, 0, call qword ptr [rdx + rax*8 + 8]
	SAMPLE K_JMP_IND, reloc_sample_data + 8, jmp qword ptr [rip + reloc_sample_data + 8]
	SAMPLE K_CALL_IND, reloc_sample_data + 16, call qword ptr [rip + reloc_sample_data + 16]
	SAMPLE K_RET, 0, ret
	SAMPLE K_RET, 0, ret 16
	SAMPLE K_RET, 0, bnd ret
	SAMPLE K_RET, 0, repz ret
.Lfwd:
	/* Room for the decoder's 16-byte window past the last sample. */
	.fill 16, 1, 0xcc

	.section .data.rel.ro.reloc_samples, "aw"
	.globl reloc_samples_end
reloc_samples_end:

/*
 * The CPU as the oracle for the emulator: each stub loads the flags (and
 * rcx), runs one branch, and reports whether it was taken. The branch
 * itself is at reloc_hw_<name>_insn, so the test decodes and emulates the
 * very bytes the CPU ran.
 *
 * unsigned long reloc_hw_j<cc>(unsigned long flags): 1 if taken.
 */
	.text
.macro HWJCC cc
	.globl reloc_hw_j\cc, reloc_hw_j\cc\()_insn
	.type reloc_hw_j\cc, @function
reloc_hw_j\cc:
	push rdi
	popfq
reloc_hw_j\cc\()_insn:
	{disp8} j\cc 1f
	xor eax, eax
	cld
	ret
1:	mov eax, 1
	cld
	ret
	.size reloc_hw_j\cc, . - reloc_hw_j\cc
.endm

.irp cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
	HWJCC \cc
.endr

/* Indexed by condition code (the low nibble of the opcode). */
	.section .data.rel.ro.reloc_hw, "aw"
	.balign 8
	.globl reloc_hw_jcc, reloc_hw_jcc_insn
reloc_hw_jcc:
.irp cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
	.quad reloc_hw_j\cc
.endr
reloc_hw_jcc_insn:
.irp cc, o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
	.quad reloc_hw_j\cc\()_insn
.endr

/*
 * void reloc_hw_<name>(struct { rcx, flags, taken } *io): runs the loop
 * instruction with io->rcx and io->flags, writes back rcx and taken.
 */
	.text
.macro HWLOOP name, insn:vararg
	.globl reloc_hw_\name, reloc_hw_\name\()_insn
	.type reloc_hw_\name, @function
reloc_hw_\name:
	mov rcx, qword ptr [rdi]
	push qword ptr [rdi + 8]
	popfq
reloc_hw_\name\()_insn:
	\insn 1f
	mov qword ptr [rdi + 16], 0
	jmp 2f
1:	mov qword ptr [rdi + 16], 1
2:	mov qword ptr [rdi], rcx
	cld
	ret
	.size reloc_hw_\name, . - reloc_hw_\name
.endm

	HWLOOP loopne, loopne
	HWLOOP loope, loope
	HWLOOP loop, loop
	HWLOOP jrcxz, jrcxz
	HWLOOP loopne32, addr32 loopne
	HWLOOP loope32, addr32 loope
	HWLOOP loop32, addr32 loop
	HWLOOP jecxz, jecxz

	.section .note.GNU-stack, "", @progbits
