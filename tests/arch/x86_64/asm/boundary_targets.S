/* SPDX-License-Identifier: MIT */
/*
 * Code for tests/test_boundary.c: a function whose code the test rewrites
 * (t_rewrite), and code that no symbol names, between two functions
 * (its address in t_gap_code).
 */
	.text

/* long t_rewrite(long a): a; five one-byte nops the test turns into one nopl. */
	.globl	t_rewrite
	.type	t_rewrite, @function
t_rewrite:
	mov	%rdi, %rax
	.globl	t_rewrite_nops
t_rewrite_nops:
	.byte	0x90, 0x90, 0x90, 0x90, 0x90
	ret
	.size	t_rewrite, . - t_rewrite

/* Named by no symbol: movabs $imm64, %rax (10 bytes); ret. */
1:	movabs	$0x1122334455667788, %rax
	ret

	.globl	t_gap_after
	.type	t_gap_after, @function
t_gap_after:
	ret
	.size	t_gap_after, . - t_gap_after

	.section .rodata
	.balign	8
	.globl	t_gap_code
t_gap_code:
	.quad	1b

	.section .note.GNU-stack, "", @progbits
