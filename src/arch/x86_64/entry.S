/* SPDX-License-Identifier: MIT */
/*
 * Entries from generated code into C: the post-handler stub that slots fall
 * into, and the return-probe trampoline.
 *
 * Both are entered with rsp 136 bytes below the interrupted stack pointer R:
 * 128 bytes of red zone left alone, then one word holding the argument for
 * the C function (the site, or 0). They build a struct pk_regs, save the
 * full extended state with xsave (handlers may use any vector register, and
 * libc's string functions clear the upper halves of ymm), call C, restore
 * everything and resume at regs->ip with rsp back at R. The resume address
 * is written into the argument word, and "ret $128" pops it and the red zone
 * in one instruction, so no signal can land between the two.
 */
	.text

#define R_R15	0
#define R_R14	8
#define R_R13	16
#define R_R12	24
#define R_BP	32
#define R_BX	40
#define R_R11	48
#define R_R10	56
#define R_R9	64
#define R_R8	72
#define R_AX	80
#define R_CX	88
#define R_DX	96
#define R_SI	104
#define R_DI	112
#define R_ORIG	120
#define R_IP	128
#define R_CS	136
#define R_FL	144
#define R_SP	152
#define R_SS	160
#define R_SIZE	168

.macro SAVE_CALL_RESTORE fn
	lea	-R_SIZE(%rsp), %rsp
	mov	%r15, R_R15(%rsp)
	mov	%r14, R_R14(%rsp)
	mov	%r13, R_R13(%rsp)
	mov	%r12, R_R12(%rsp)
	mov	%rbp, R_BP(%rsp)
	mov	%rbx, R_BX(%rsp)
	mov	%r11, R_R11(%rsp)
	mov	%r10, R_R10(%rsp)
	mov	%r9, R_R9(%rsp)
	mov	%r8, R_R8(%rsp)
	mov	%rax, R_AX(%rsp)
	mov	%rcx, R_CX(%rsp)
	mov	%rdx, R_DX(%rsp)
	mov	%rsi, R_SI(%rsp)
	mov	%rdi, R_DI(%rsp)
	pushfq
	popq	R_FL(%rsp)
	movq	$-1, R_ORIG(%rsp)
	movq	$0x33, R_CS(%rsp)
	movq	$0x2b, R_SS(%rsp)
	movq	$0, R_IP(%rsp)
	lea	(R_SIZE + 8 + 128)(%rsp), %rax
	mov	%rax, R_SP(%rsp)
	cld

	mov	%rsp, %rbx
	and	$-64, %rsp
	sub	pk_xsave_size(%rip), %rsp
	xor	%eax, %eax
	mov	%rax, 512(%rsp)
	mov	%rax, 520(%rsp)
	mov	%rax, 528(%rsp)
	mov	%rax, 536(%rsp)
	mov	%rax, 544(%rsp)
	mov	%rax, 552(%rsp)
	mov	%rax, 560(%rsp)
	mov	%rax, 568(%rsp)
	mov	$-1, %eax
	mov	$-1, %edx
	xsave64	(%rsp)

	mov	R_SIZE(%rbx), %rdi
	mov	%rbx, %rsi
	call	\fn

	mov	$-1, %eax
	mov	$-1, %edx
	xrstor64 (%rsp)
	mov	%rbx, %rsp

	mov	R_IP(%rsp), %rax
	mov	%rax, R_SIZE(%rsp)
	mov	R_R15(%rsp), %r15
	mov	R_R14(%rsp), %r14
	mov	R_R13(%rsp), %r13
	mov	R_R12(%rsp), %r12
	mov	R_BP(%rsp), %rbp
	mov	R_BX(%rsp), %rbx
	mov	R_R11(%rsp), %r11
	mov	R_R10(%rsp), %r10
	mov	R_R9(%rsp), %r9
	mov	R_R8(%rsp), %r8
	mov	R_AX(%rsp), %rax
	mov	R_CX(%rsp), %rcx
	mov	R_DX(%rsp), %rdx
	mov	R_SI(%rsp), %rsi
	mov	R_DI(%rsp), %rdi
	pushq	R_FL(%rsp)
	popfq
	lea	R_SIZE(%rsp), %rsp
	ret	$128
.endm

	.globl	pk_post_entry
	.hidden	pk_post_entry
	.type	pk_post_entry, @function
	.p2align 4
pk_post_entry:
	SAVE_CALL_RESTORE pk_post_dispatch
	.size	pk_post_entry, .-pk_post_entry

	/* One byte before the trampoline: unwinders look up (return address - 1). */
	nop
	.globl	pk_rethook_trampoline
	.hidden	pk_rethook_trampoline
	.type	pk_rethook_trampoline, @function
pk_rethook_trampoline:
	lea	-128(%rsp), %rsp
	pushq	$0
	SAVE_CALL_RESTORE pk_rethook_dispatch
	.size	pk_rethook_trampoline, .-pk_rethook_trampoline

/*
 * long pk_copy_nofault_asm(void *dst, const void *src, size_t n): 0, or
 * -EFAULT when a byte of src cannot be read. A fault on the copy instruction
 * is recognised by the engine's SIGSEGV/SIGBUS handler, which resumes at the
 * fixup instead: the user-space version of the kernel's exception table, with
 * no system call on the way.
 */
	.globl	pk_copy_nofault_asm, pk_copy_nofault_insn, pk_copy_nofault_fixup
	.hidden	pk_copy_nofault_asm, pk_copy_nofault_insn, pk_copy_nofault_fixup
	.type	pk_copy_nofault_asm, @function
	.p2align 4
pk_copy_nofault_asm:
	mov	%rdx, %rcx
pk_copy_nofault_insn:
	rep movsb
	xor	%eax, %eax
	ret
pk_copy_nofault_fixup:
	mov	$-14, %rax
	ret
	.size	pk_copy_nofault_asm, .-pk_copy_nofault_asm

	.section .note.GNU-stack,"",@progbits
