/* SPDX-License-Identifier: MIT */
#ifndef PK_CLI_INJECT_H
#define PK_CLI_INJECT_H

#include <stddef.h>
#include <sys/types.h>

#include "arch/arch.h"
#include "arch_ptrace.h"

struct pk_inject {
	pid_t tid;
	int attached;
	struct pk_uregs saved;
	unsigned long scratch_used; /* bytes of the stack below the red zone in use */
};

/**
 * pk_inject_attach() - seize and stop thread @tid, saving its registers.
 * @in: filled in.
 * @tid: a thread of another process.
 *
 * Return: 0, or -EPERM (not allowed: ptrace_scope, another user, already
 * traced), -ESRCH (no such thread, or it exited), or another ptrace errno.
 */
int pk_inject_attach(struct pk_inject *in, pid_t tid);

/**
 * pk_inject_write() - write @n bytes into the stopped process at @addr.
 * Return: 0, -EFAULT / -EIO (not writable there), or -ESRCH.
 */
int pk_inject_write(struct pk_inject *in, unsigned long addr, const void *data, size_t n);

/**
 * pk_inject_push_string() - copy @s onto the stopped thread's stack.
 * Return: its address there, or 0 if it could not be written.
 */
unsigned long pk_inject_push_string(struct pk_inject *in, const char *s);

/**
 * pk_inject_call() - call @fn(@args...) on the stopped thread, wait for it.
 * @in: an attached thread.
 * @fn: the function's address in that process.
 * @args: up to ARCH_INJECT_MAX_ARGS integer arguments.
 * @nargs: how many.
 * @ret: the return value.
 *
 * Signals that arrive meanwhile go on to the program.
 * Return: 0, -EINVAL (bad @nargs or not attached), -EFAULT (the call
 * faulted), -ESRCH (the process died), or a ptrace errno.
 */
int pk_inject_call(struct pk_inject *in, unsigned long fn, const unsigned long *args, int nargs,
		   unsigned long *ret);

/**
 * pk_inject_detach() - restore the registers and let the thread go.
 * Return: 0 or a ptrace errno.
 */
int pk_inject_detach(struct pk_inject *in);

#endif
