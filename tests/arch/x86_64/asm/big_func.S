/* SPDX-License-Identifier: MIT */
/*
 * t_big(seed): one function of more than 30,000 instructions of mixed
 * lengths (1 to 10 bytes: relocated, RIP-relative, red-zone, emulated jumps),
 * for registering a probe on every boundary of one function. The assembler
 * records each instruction's offset and how often one call runs it in
 * t_big_off[] / t_big_hits[] (t_big_count entries), so that the test does not
 * take the boundaries from the decoder it is testing.
 */
	.text

/* One instruction, recorded with the times a call of t_big runs it. */
.macro INSN hits, insn:vararg
0:	\insn
	.pushsection .rodata.t_big_off, "a"
	.long	0b - t_big
	.popsection
	.pushsection .rodata.t_big_hits, "a"
	.byte	\hits
	.popsection
.endm

.macro BLOCK
	INSN 1, add	$1, %rax
	INSN 1, lea	3(%rax,%rdx,2), %rcx
	INSN 1, xor	%ecx, %edx
	INSN 1, movabs	$0x0123456789abcdef, %r8
	INSN 1, add	%r8, %rax
	INSN 1, imul	$7, %rdx, %rdx
	INSN 1, mov	%rax, -8(%rsp)
	INSN 1, add	-8(%rsp), %rdx
	INSN 1, add	t_big_k(%rip), %rdx
	INSN 1, nop
	INSN 1, rol	$3, %rax
	INSN 1, jmp	1f
	INSN 0, ud2
1:
	INSN 1, push	%rdx
	INSN 1, pop	%rcx
	INSN 1, sub	$0x12345, %rcx
	INSN 1, nopw	0(%rax,%rax,1)
	INSN 1, xor	%rcx, %rdx
.endm

	.pushsection .rodata.t_big_off, "a"
	.balign	4
	.globl	t_big_off
t_big_off:
	.popsection
	.pushsection .rodata.t_big_hits, "a"
	.globl	t_big_hits
t_big_hits:
	.popsection

	.globl	t_big
	.type	t_big, @function
	.balign	16
t_big:
	INSN 1, mov	%rdi, %rax
	INSN 1, xor	%edx, %edx
	.rept	1800
	BLOCK
	.endr
	INSN 1, xor	%rdx, %rax
	INSN 1, ret
	.size	t_big, . - t_big

	.section .rodata
	.balign	8
t_big_k:
	.quad	0x9e3779b97f4a7c15
	.globl	t_big_count
t_big_count:
	.long	(t_big_hits_end - t_big_hits)
	.pushsection .rodata.t_big_hits, "a"
t_big_hits_end:
	.popsection

	.section .note.GNU-stack, "", @progbits
