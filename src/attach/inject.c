// SPDX-License-Identifier: MIT
/*
 * Calling a function inside another process with ptrace: the ground work of
 * `probekit trace -p` (issue 4), which loads the agent into a running
 * program with a call to its own dlopen().
 *
 * One thread is seized and interrupted; its registers are saved; the call
 * runs on that thread's stack below its red zone, returning to address 0,
 * where the fault stops it again; then the registers go back as they were.
 * A thread interrupted inside a system call gets the call restarted by the
 * kernel when its original registers are restored, as the program expects.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/inject.h"

/* A signal to the tracer (Ctrl-C, SIGCHLD) must not abandon a stopped thread half way. */
static pid_t wait_thread(pid_t tid, int *status)
{
	pid_t r;

	do
		r = waitpid(tid, status, __WALL);
	while (r < 0 && errno == EINTR);
	return r;
}

int pk_inject_attach(struct pk_inject *in, pid_t tid)
{
	int status;

	memset(in, 0, sizeof(*in));
	in->tid = tid;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0)) {
		int err = -errno;

		ptrace(PTRACE_DETACH, tid, 0, 0);
		return err;
	}
	if (wait_thread(tid, &status) != tid || !WIFSTOPPED(status)) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return -ESRCH;
	}
	if (arch_ptrace_getregs(tid, &in->saved)) {
		int err = -errno;

		ptrace(PTRACE_DETACH, tid, 0, 0);
		return err;
	}
	in->attached = 1;
	return 0;
}

int pk_inject_write(struct pk_inject *in, unsigned long addr, const void *data, size_t n)
{
	struct iovec l = {(void *)data, n}, r = {(void *)addr, n};
	ssize_t w = process_vm_writev(in->tid, &l, 1, &r, 1, 0);

	if (w == (ssize_t)n)
		return 0;
	return w < 0 ? -errno : -EIO;
}

int pk_inject_call(struct pk_inject *in, unsigned long fn, const unsigned long *args, int nargs,
		   unsigned long *ret)
{
	struct pk_uregs r = in->saved;
	unsigned long sp, ra, zero = 0;
	siginfo_t si;
	int status, err;

	if (!in->attached || nargs < 0 || nargs > ARCH_INJECT_MAX_ARGS)
		return -EINVAL;
	/* Below the red zone and what the caller placed there (strings). */
	sp = arch_uregs_call_sp(&in->saved, in->scratch_used);
	ra = arch_uregs_setup_call(&r, fn, sp, args, nargs);
	if (ra) {
		err = pk_inject_write(in, ra, &zero, sizeof(zero));
		if (err)
			return err;
	}
	err = arch_ptrace_setregs(in->tid, &r);
	if (err)
		return err;
	if (ptrace(PTRACE_CONT, in->tid, 0, 0))
		return -errno;
	for (;;) {
		if (wait_thread(in->tid, &status) != in->tid)
			return -ECHILD;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			in->attached = 0;
			return -ESRCH;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) == SIGSEGV && !ptrace(PTRACE_GETSIGINFO, in->tid, 0, &si) &&
		    si.si_addr == NULL) {
			err = arch_ptrace_getregs(in->tid, &r);
			if (err)
				return err;
			if (arch_uregs_ip(&r) != 0)
				return -EFAULT; /* the function itself faulted */
			*ret = arch_uregs_return_value(&r);
			return 0;
		}
		/* Anything else that stops it (another signal) goes on to the program. */
		if (ptrace(PTRACE_CONT, in->tid, 0,
			   (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status))))
			return -errno;
	}
}

unsigned long pk_inject_push_string(struct pk_inject *in, const char *s)
{
	size_t n = strlen(s) + 1;
	unsigned long at;

	in->scratch_used += (n + 15) & ~15UL;
	at = arch_uregs_call_sp(&in->saved, in->scratch_used);
	return pk_inject_write(in, at, s, n) ? 0 : at;
}

int pk_inject_detach(struct pk_inject *in)
{
	int err = 0;

	if (!in->attached)
		return 0;
	/* The saved registers: an interrupted system call is restarted from them. */
	err = arch_ptrace_setregs(in->tid, &in->saved);
	if (ptrace(PTRACE_DETACH, in->tid, 0, 0) && !err)
		err = -errno;
	in->attached = 0;
	return err;
}
