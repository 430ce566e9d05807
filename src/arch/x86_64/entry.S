/* SPDX-License-Identifier: MIT */
/*
 * Entries from generated code into C: the jump-optimized probe's detour,
 * the post-handler stub that slots fall into, and the return-probe
 * trampoline.
 *
 * All are entered with rsp 136 bytes below the interrupted stack pointer R:
 * 128 bytes of red zone left alone, then one word holding the argument for
 * the C function (the site, or 0). They build a struct pk_regs, save the
 * extended state with xsave when a handler may use it (libc's string
 * functions clear the upper halves of ymm; an empty handler touches none),
 * call C, restore everything and resume at regs->ip with rsp at regs->sp.
 */
	.text

#include "hstack.h"

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

/*
 * Save the interrupted registers into a struct pk_regs just below the
 * argument word; %rbx keeps its address across the call.
 */
.macro SAVE_REGS above=0
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
	lea	(R_SIZE + \above + 8 + 128)(%rsp), %rax
	mov	%rax, R_SP(%rsp)
	cld
	mov	%rsp, %rbx
.endm

/* The general registers but rsp, from the struct pk_regs at rsp; flags untouched. */
.macro RESTORE_GPRS
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
.endm

/*
 * Restore the registers but rsp, the flags without popfq (microcoded, the
 * dearest instruction of a hit): DF by hand, OF by an add that overflows
 * exactly when it was set, the rest with sahf. Handlers' changes to other
 * flags (TF, AC) make C choose the slow exit instead.
 */
.macro FAST_RESTORE
	testb	$4, R_FL+1(%rsp)
	jz	5f
	std
5:	movzbl	R_FL+1(%rsp), %eax
	shr	$3, %al
	and	$1, %al
	add	$0x7f, %al
	mov	R_FL(%rsp), %ah
	sahf
	RESTORE_GPRS
.endm

/*
 * Leave the program's stack for the thread's handler stack (internal.h,
 * PK_HSTACK_SIZE): what a hit puts on the program's stack is then only the
 * struct pk_regs and the words above it, under 512 bytes past the red zone.
 * A hit nested in a handler (or in a signal handler that interrupted one)
 * is on the handler stack already and goes on below. A thread's first hit
 * claims its record here, on the program's stack, with a few words.
 * Clobbers rax, rcx and the caller-saved registers (all saved in regs).
 */
.macro TO_HSTACK
	mov	pk_thread_self@gottpoff(%rip), %rax
	mov	%fs:(%rax), %rax
	test	%rax, %rax
	jnz	7f
	and	$-16, %rsp
	call	pk_thread_claim
	mov	%rbx, %rsp
	test	%rax, %rax
	jz	8f
7:	mov	(%rax), %rax
	test	%rax, %rax
	jz	8f
	mov	%rax, %rcx
	sub	%rsp, %rcx
	cmp	$PK_HSTACK_SIZE, %rcx
	jb	8f
	mov	%rax, %rsp
8:
.endm

/*
 * Call \fn(argument word, regs, word above regs: the return address into
 * a detour or slot, where there is one). The extended state is saved around the
 * call only when \vec (a 32-bit memory operand, addressed off %rdi = the
 * argument word) is non-zero: the registry sets it when some handler may
 * touch vector or x87 state (analysed when the probe is registered), so an
 * ordinary hit costs no xsave at all. A non-zero return from \fn says the
 * registers and stack are as they came but for what the fast exit \fast
 * restores; zero takes pk_entry_exit, which resumes anywhere.
 */
.macro CALL_C fn, vec, above=0, fast
	TO_HSTACK
	mov	(R_SIZE + \above)(%rbx), %rdi
	mov	%rbx, %rsi
	mov	R_SIZE(%rbx), %rdx
	cmpl	$0, \vec
	jne	1f
	and	$-16, %rsp
	call	\fn
	mov	%rbx, %rsp
	test	%eax, %eax
	jnz	\fast
	jmp	pk_entry_exit
1:	and	$-64, %rsp
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
	mov	(R_SIZE + \above)(%rbx), %rdi
	mov	%rbx, %rsi
	mov	R_SIZE(%rbx), %rdx
	call	\fn
	mov	%eax, %r12d
	mov	$-1, %eax
	mov	$-1, %edx
	xrstor64 (%rsp)
	mov	%rbx, %rsp
	test	%r12d, %r12d
	jnz	\fast
	jmp	pk_entry_exit
.endm

	/*
	 * The shared exit: resume at regs->ip with rsp = regs->sp, both as the
	 * handlers left them. The resume address goes into the word W just
	 * under the red zone of the new stack pointer, and "ret $128" pops it
	 * and the red zone at once. When a handler lowered sp so far that W
	 * falls on the saved registers, these move below W first.
	 */
	.p2align 4
	.type	pk_entry_exit, @function
pk_entry_exit:
	mov	R_SP(%rsp), %rdi
	sub	$136, %rdi
	lea	R_SIZE(%rsp), %rax
	cmp	%rax, %rdi
	jb	3f
2:	mov	R_IP(%rsp), %rax
	mov	%rax, (%rdi)
	mov	%rdi, R_ORIG(%rsp)
	RESTORE_GPRS
	pushq	R_FL(%rsp)
	popfq
	mov	R_ORIG(%rsp), %rsp
	ret	$128
3:	lea	-R_SIZE(%rdi), %rax
	and	$-16, %rax
	mov	%rsp, %rsi
	/* Lower rsp first: a signal then never lands on either copy. */
	mov	%rax, %rsp
	mov	%rax, %rdi
	mov	$(R_SIZE / 8), %ecx
	rep movsq
	mov	R_SP(%rsp), %rdi
	sub	$136, %rdi
	jmp	2b
	.size	pk_entry_exit, .-pk_entry_exit

/* Offset of struct pk_site's vec field; internal.h checks it. */
#define SITE_VEC 0

	/*
	 * The post stub's entry, called from a slot once the displaced
	 * instruction has run: the fast exit returns into the slot, which goes
	 * back to the code.
	 */
	.globl	pk_post_entry
	.hidden	pk_post_entry
	.type	pk_post_entry, @function
	.p2align 4
pk_post_entry:
	SAVE_REGS 8
	CALL_C	pk_post_dispatch, SITE_VEC(%rdi), 8, pk_ret_exit
	.size	pk_post_entry, .-pk_post_entry

	/*
	 * A jump-optimized probe's detour pushes its site and calls here: the
	 * hit, with no signal. The fast exit returns into the detour, which
	 * goes on into the slot; call and ret pair up, so both are predicted.
	 */
	.globl	pk_opt_entry
	.hidden	pk_opt_entry
	.type	pk_opt_entry, @function
	.p2align 4
pk_opt_entry:
	SAVE_REGS 8
	CALL_C	pk_opt_dispatch, SITE_VEC(%rdi), 8, pk_ret_exit
	.size	pk_opt_entry, .-pk_opt_entry

	.p2align 4
	.type	pk_ret_exit, @function
pk_ret_exit:
	FAST_RESTORE
	lea	R_SIZE(%rsp), %rsp
	ret
	.size	pk_ret_exit, .-pk_ret_exit

	/* One byte before the trampoline: unwinders look up (return address - 1). */
	nop
	.globl	pk_rethook_trampoline
	.hidden	pk_rethook_trampoline
	.type	pk_rethook_trampoline, @function
pk_rethook_trampoline:
	lea	-128(%rsp), %rsp
	pushq	$0
	SAVE_REGS
	CALL_C	pk_rethook_dispatch, pk_rethook_vec(%rip), 0, 6f
	/*
	 * Fast exit: the function has returned, so the red zone under the
	 * caller's stack pointer holds nothing live; the resume address waits
	 * there, where a signal frame never goes, for an indirect jump that the
	 * branch predictor learns per call site (a ret here never matches).
	 */
6:	mov	R_IP(%rsp), %rax
	mov	%rax, (R_SIZE + 8 + 128 - 8)(%rsp)
	FAST_RESTORE
	lea	(R_SIZE + 8 + 128)(%rsp), %rsp
	jmp	*-8(%rsp)
	.size	pk_rethook_trampoline, .-pk_rethook_trampoline

/*
 * long pk_on_hstack(long (*fn)(void *), void *arg): fn(arg) on the thread's
 * handler stack, for the int3 path, whose registers the kernel has saved
 * in the signal frame already.
 */
	.globl	pk_on_hstack
	.hidden	pk_on_hstack
	.type	pk_on_hstack, @function
	.p2align 4
pk_on_hstack:
	push	%rbx
	push	%r12
	push	%r13
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	%rsp, %rbx
	TO_HSTACK
	and	$-16, %rsp
	mov	%r13, %rdi
	call	*%r12
	mov	%rbx, %rsp
	pop	%r13
	pop	%r12
	pop	%rbx
	ret
	.size	pk_on_hstack, .-pk_on_hstack

/*
 * long pk_vec_call(const void *fn, void *a, void *b): fn(a, b)
 * with the extended state saved around it, on the stack (the handler
 * stack: called from C that runs there). For the one return probe whose
 * handler may use vector registers, not for every return.
 */
	.globl	pk_vec_call
	.hidden	pk_vec_call
	.type	pk_vec_call, @function
	.p2align 4
pk_vec_call:
	push	%rbp
	mov	%rsp, %rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rdi, %r12
	mov	%rsi, %r13
	mov	%rdx, %r14
	and	$-64, %rsp
	sub	pk_xsave_size(%rip), %rsp
	xor	%eax, %eax
	mov	$8, %ecx
7:	mov	%rax, 504(%rsp, %rcx, 8)
	dec	%ecx
	jnz	7b
	mov	$-1, %eax
	mov	$-1, %edx
	xsave64	(%rsp)
	mov	%r13, %rdi
	mov	%r14, %rsi
	call	*%r12
	mov	%rax, %r15
	mov	$-1, %eax
	mov	$-1, %edx
	xrstor64 (%rsp)
	mov	%r15, %rax
	lea	-32(%rbp), %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	ret
	.size	pk_vec_call, .-pk_vec_call

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
