/* SPDX-License-Identifier: MIT */
/*
 * Targets for the jump optimization's tests: one instruction per tactic at
 * a global label "<name>_at", each right after a tgkill system call, so
 * that the signal it sends is delivered with the thread exactly at the
 * instruction whose bytes the optimizer rewrites ("parked" there while the
 * handler runs).
 *
 * long park_<tactic>(long pid, long tid, long sig, long x) = 3 * x + 1
 */
	.text

#define FN(name) .globl name; .type name, @function; name:
#define AT(name) .globl name; name:

#define PARK(name, ...)		\
FN(name)				\
	push	%rbx;			\
	mov	%rcx, %rbx;		\
	mov	$234, %eax;		\
	syscall;			\
AT(name##_at)				\
	__VA_ARGS__;			\
AT(name##_next)				\
	add	$1, %rax;		\
	pop	%rbx;			\
	ret;				\
	.size name, .-name

/* 4 bytes (48 8d 04 5b): a punned jump over "add $1, %rax" (48 83 c0 01). */
PARK(park_pun, lea (%rbx,%rbx,2), %rax)
/* 8 bytes (disp32): the jump itself fits. */
PARK(park_t1, lea 0x10000(%rbx,%rbx,2), %rax; sub $0x10000, %rax)

/*
 * Eviction: the system call itself is the probed instruction (2 bytes), and
 * the signal it sends parks the thread on its successor, whose bytes
 * (b9 00 00 00 00) would make every pun land inside this program's own text:
 * the successor is evicted, rewritten under the parked thread.
 */
FN(park_ev)
	push	%rbx
	mov	%rcx, %rbx
	mov	$234, %eax
AT(park_ev_at)
	syscall
AT(park_ev_next)
	mov	$0, %ecx
	lea	(%rbx,%rbx,2), %rax
	add	$1, %rax
	add	%rcx, %rax
	pop	%rbx
	ret
	.size park_ev, .-park_ev

	.section .note.GNU-stack,"",@progbits
