/* SPDX-License-Identifier: MIT */
/*
 * Jprobes: into the entry handler and back. See src/core/jprobe.c.
 */
#include "jprobe_frame.h"

	.text

/*
 * Reached from a jprobe's pre_handler with every register as at the
 * function's entry but ip and r11 (the frame; r11 carries no argument in
 * the SysV ABI). The vector state is saved here, not in the pre_handler,
 * because only now is it the function's own on both paths (sigreturn or a
 * detour's xrstor). The entry handler runs below a copy of the caller's
 * stack top, so whatever it writes to its stack arguments is lost; the copy
 * is made after moving sp, so that a signal cannot land on it half-written.
 */
	.globl	pk_jprobe_stub
	.hidden	pk_jprobe_stub
	.type	pk_jprobe_stub, @function
	.p2align 4
pk_jprobe_stub:
	mov	$-1, %eax
	mov	$-1, %edx
	xsave64	JF_XSAVE(%r11)
	lea	-JF_COPY(%rsp), %rsp
	lea	JF_STACK(%r11), %rsi
	mov	%rsp, %rdi
	mov	$(JF_COPY / 8), %ecx
	rep movsq
	mov	JR_AX(%r11), %rax
	mov	JR_DX(%r11), %rdx
	mov	JR_CX(%r11), %rcx
	mov	JR_SI(%r11), %rsi
	mov	JR_DI(%r11), %rdi
	jmp	*JF_ENTRY(%r11)
	.size	pk_jprobe_stub, .-pk_jprobe_stub

/*
 * void pk_jprobe_return(void): pk_jprobe_finish() picks where the function
 * resumes (its site's slot, or past an emulated instruction) and returns
 * the frame. The last three words (resume address, flags, r11) go just below
 * the function's entry sp, free at a function's entry, and are popped with
 * ret last, so that no signal can land on a half-restored state. The frame is
 * released before those pops: from then on only the stack is read.
 */
	.globl	pk_jprobe_return
	.type	pk_jprobe_return, @function
	.p2align 4
pk_jprobe_return:
	push	%rbp
	mov	%rsp, %rbp
	and	$-16, %rsp
	call	pk_jprobe_finish
	test	%rax, %rax
	jnz	1f
	leave
	ret
1:	mov	%rax, %r11
	mov	$-1, %eax
	mov	$-1, %edx
	xrstor64 JF_XSAVE(%r11)
	mov	JR_SP(%r11), %rax
	mov	JR_IP(%r11), %rcx
	mov	%rcx, -8(%rax)
	mov	JR_FL(%r11), %rcx
	mov	%rcx, -16(%rax)
	mov	JR_R11(%r11), %rcx
	mov	%rcx, -24(%rax)
	lea	-24(%rax), %rsp
	mov	JR_R15(%r11), %r15
	mov	JR_R14(%r11), %r14
	mov	JR_R13(%r11), %r13
	mov	JR_R12(%r11), %r12
	mov	JR_BP(%r11), %rbp
	mov	JR_BX(%r11), %rbx
	mov	JR_R10(%r11), %r10
	mov	JR_R9(%r11), %r9
	mov	JR_R8(%r11), %r8
	mov	JR_AX(%r11), %rax
	mov	JR_CX(%r11), %rcx
	mov	JR_DX(%r11), %rdx
	mov	JR_SI(%r11), %rsi
	mov	JR_DI(%r11), %rdi
	movl	$0, JF_ACTIVE(%r11)
	pop	%r11
	popfq
	ret
	.size	pk_jprobe_return, .-pk_jprobe_return

	.section .note.GNU-stack,"",@progbits
