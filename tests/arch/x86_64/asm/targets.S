/* SPDX-License-Identifier: MIT */
/*
 * Small functions with one instruction of each class that the engine
 * relocates or emulates, each at a global label "<name>_at" for probing.
 * Labels after the probed instruction mark where execution must go next.
 */
	.text

#define FN(name) .globl name; .type name, @function; name:
#define AT(name) .globl name; name:

/* long t_jcc8(long a): a > 0 ? 1 : 2, via jle rel8 */
FN(t_jcc8)
	cmp	$0, %rdi
AT(t_jcc8_at)
	jle	t_jcc8_taken
AT(t_jcc8_next)
	mov	$1, %eax
	ret
AT(t_jcc8_taken)
	mov	$2, %eax
	ret

/* long t_jcc32(long a): a > 0 ? 1 : 2, via jle rel32 */
FN(t_jcc32)
	cmp	$0, %rdi
AT(t_jcc32_at)
	{disp32} jle t_jcc32_taken
AT(t_jcc32_next)
	mov	$1, %eax
	ret
AT(t_jcc32_taken)
	mov	$2, %eax
	ret

/* long t_jmp8(void): 7 */
FN(t_jmp8)
AT(t_jmp8_at)
	jmp	t_jmp8_dest
	ud2
AT(t_jmp8_dest)
	mov	$7, %eax
	ret

/* long t_jmp32(void): 8 */
FN(t_jmp32)
AT(t_jmp32_at)
	{disp32} jmp t_jmp32_dest
	ud2
AT(t_jmp32_dest)
	mov	$8, %eax
	ret

/* long t_helper3(long a): 3a */
FN(t_helper3)
	lea	(%rdi,%rdi,2), %rax
	ret

/* long t_call(long a): 3a via call rel32 */
FN(t_call)
	push	%rbx
AT(t_call_at)
	call	t_helper3
AT(t_call_ret)
	pop	%rbx
	ret

/* long t_callrip(long a): 3a via call *[rip] */
FN(t_callrip)
	push	%rbx
AT(t_callrip_at)
	call	*t_ptr(%rip)
	pop	%rbx
	ret

/* long t_jmprip(long a): 3a via a tail jmp *[rip] */
FN(t_jmprip)
AT(t_jmprip_at)
	jmp	*t_ptr(%rip)

/* long t_jmpreg(long a): 3a via jmp *%rax */
FN(t_jmpreg)
	lea	t_helper3(%rip), %rax
AT(t_jmpreg_at)
	jmp	*%rax

/* long t_callreg(long a): 3a via call *%r11 */
FN(t_callreg)
	push	%rbx
	lea	t_helper3(%rip), %r11
AT(t_callreg_at)
	call	*%r11
	pop	%rbx
	ret

/* long t_calltab(long a): 3a via call *table(,%rdx,8) */
FN(t_calltab)
	push	%rbx
	mov	$1, %edx
AT(t_calltab_at)
	call	*t_table(,%rdx,8)
	pop	%rbx
	ret

/* long t_ret(long a): a; the probe sits on the ret */
FN(t_ret)
	mov	%rdi, %rax
AT(t_ret_at)
	ret

/* long t_retimm(void): 5, through a callee that pops 16 bytes with ret $16 */
FN(t_retimm)
	push	$0
	push	$0
	call	t_retimm_callee
	ret
FN(t_retimm_callee)
	mov	$5, %eax
AT(t_retimm_at)
	ret	$16

/* long t_loop(long n): n (n >= 1), counting iterations of loop */
FN(t_loop)
	mov	%rdi, %rcx
	xor	%eax, %eax
1:	inc	%rax
AT(t_loop_at)
	loop	1b
	ret

/* long t_jrcxz(long n): n == 0 ? 2 : 1 */
FN(t_jrcxz)
	mov	%rdi, %rcx
AT(t_jrcxz_at)
	jrcxz	1f
	mov	$1, %eax
	ret
1:	mov	$2, %eax
	ret

/* long t_riprel(long a): t_value + a, mov from [rip] */
FN(t_riprel)
AT(t_riprel_at)
	mov	t_value(%rip), %rax
	add	%rdi, %rax
	ret

/* long t_ripimm(void): t_value32 == 0x1234, cmp with disp and immediate */
FN(t_ripimm)
	xor	%eax, %eax
AT(t_ripimm_at)
	cmpl	$0x1234, t_value32(%rip)
	sete	%al
	ret

/* long t_pushrip(void): t_value via push [rip] */
FN(t_pushrip)
AT(t_pushrip_at)
	push	t_value(%rip)
	pop	%rax
	ret

/* long t_lea(void): &t_value */
FN(t_lea)
AT(t_lea_at)
	lea	t_value(%rip), %rax
	ret

/* long t_skip(void): 1, or 2 when the probed mov is skipped */
FN(t_skip)
	mov	$2, %eax
AT(t_skip_at)
	mov	$1, %eax
AT(t_skip_next)
	ret

/* long t_redzone(long a): a, kept in the red zone across the probe */
FN(t_redzone)
	mov	%rdi, -8(%rsp)
	mov	%rdi, -128(%rsp)
	xor	%edi, %edi
AT(t_redzone_at)
	mov	$1, %eax
	mov	-128(%rsp), %rax
	cmp	-8(%rsp), %rax
	je	1f
	xor	%eax, %eax
1:	ret

/* void t_ymm(const void *in32, void *out32): copies 32 bytes through ymm0 across a probe */
FN(t_ymm)
	vmovdqu	(%rdi), %ymm0
AT(t_ymm_at)
	nop
	vmovdqu	%ymm0, (%rsi)
	vzeroupper
	ret

/* long t_flags(long a, long b): a < b, with cmp before and setl after the probe */
FN(t_flags)
	xor	%eax, %eax
	cmp	%rsi, %rdi
AT(t_flags_at)
	nop
	setl	%al
	ret

/* long t_load(const long *p): *p; the load is the probed instruction */
FN(t_load)
AT(t_load_at)
	mov	(%rdi), %rax
	ret

/* long t_div(long a, long b): a / b, faulting with b == 0 */
FN(t_div)
	mov	%rdi, %rax
	cqo
AT(t_div_at)
	idiv	%rsi
	ret

/* A stray int3 of the program's own. */
FN(t_int3)
AT(t_int3_at)
	int3
	ret

/* Not called: an instruction the engine refuses. */
FN(t_xbegin)
AT(t_xbegin_at)
	xbegin	1f
1:	ret

	.data
	.p2align 3
	.globl	t_ptr, t_value, t_value32, t_table
t_ptr:		.quad	t_helper3
t_value:	.quad	1000
t_value32:	.long	0x1234
	.long	0
t_table:	.quad	0, t_helper3

	.section .note.GNU-stack,"",@progbits
