// SPDX-License-Identifier: MIT
/*
 * A child that shares the caller's memory and runs one engine function on
 * its own stack, for the engine's posix_spawn (core/spawn.c): glibc's
 * clone() wrapper may itself be probed, and the child must run no probed code.
 */
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include "internal.h"

long arch_clone_vfork(int (*fn)(void *), void *arg, void *stack_top)
{
	register long x0 __asm__("x0") = CLONE_VM | CLONE_VFORK | SIGCHLD;
	register void *x1 __asm__("x1") = stack_top;
	register long x2 __asm__("x2") = 0;
	register long x3 __asm__("x3") = 0;
	register long x4 __asm__("x4") = 0;
	register long x8 __asm__("x8") = SYS_clone;
	register int (*x10)(void *) __asm__("x10") = fn;
	register void *x11 __asm__("x11") = arg;

	/* The child starts on stack_top (16-aligned), calls fn(arg), and exits with its value. */
	__asm__ volatile("svc #0\n\t"
			 "cbnz x0, 1f\n\t"
			 "mov x29, xzr\n\t"
			 "mov x30, xzr\n\t"
			 "mov x0, x11\n\t"
			 "blr x10\n\t"
			 "mov x8, %[exit]\n\t"
			 "svc #0\n\t"
			 "brk #0\n"
			 "1:"
			 : "+r"(x0)
			 : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8), "r"(x10),
			   "r"(x11), [exit] "i"(SYS_exit)
			 : "memory");
	return x0;
}
