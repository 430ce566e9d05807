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
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	register int (*r12)(void *) __asm__("r12") = fn;
	register void *r13 __asm__("r13") = arg;
	long ret;

	/* The child starts on stack_top (16-aligned), calls fn(arg), and exits with its value. */
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov %[exit], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"((long)SYS_clone), "D"((long)(CLONE_VM | CLONE_VFORK | SIGCHLD)),
			   "S"(stack_top), "d"(0L), "r"(r10), "r"(r8), "r"(r12),
			   "r"(r13), [exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	return ret;
}
