/* SPDX-License-Identifier: MIT */
/* The tracer's side of attaching to a running process (attach.c). */
#ifndef PK_CLI_ATTACH_H
#define PK_CLI_ATTACH_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct pk_attach {
	pid_t pid;
	const char *who; /* "probekit trace": the prefix of every message */
	int listen_fd;
	int sock;		  /* to the agent's thread; closing it detaches */
	int pidfd;		  /* readable once the process has exited */
	unsigned long handle;	  /* dlopen()'s handle of the agent in the process */
	unsigned long dlclose_at; /* dlclose() there */
	unsigned int retries;	  /* threads let go because they were inside libc */
	int unloaded;		  /* after close: the agent's file is no longer mapped */
	char agent[PATH_MAX];	  /* the agent's path as the process sees it */
	char copied[PATH_MAX + 64];
	char sockname[64];
	double t_start, t_attached, t_detach, t_detached; /* CLOCK_MONOTONIC seconds */
};

/**
 * pk_attach_open() - load the agent into process @pid and connect to it.
 * @a: filled in.
 * @pid: the process.
 * @who: the prefix for messages.
 *
 * Every refusal is reported on stderr with what to do about it.
 * Return: 0; -ESRCH (no such process, or it exited), -EPERM (another
 * user's, ptrace_scope, not dumpable), -EBUSY (already traced),
 * -ENOEXEC (not x86-64, static, no dlopen, the agent did not load),
 * -EAGAIN (no thread could be borrowed safely), -ETIMEDOUT, or another
 * errno of the steps.
 */
int pk_attach_open(struct pk_attach *a, pid_t pid, const char *who);

/* Send command @cmd (PK_ATTACH_*), with two fds when @ctl_fd >= 0. Return: 0 or -errno. */
int pk_attach_send(struct pk_attach *a, char cmd, int ctl_fd, int ring_fd);

/* The agent's function list (malloc'd, NUL-terminated), or NULL. */
char *pk_attach_list(struct pk_attach *a, size_t *len);

/* Whether the process still runs. */
int pk_attach_alive(const struct pk_attach *a);

/**
 * pk_attach_close() - detach: the agent disarms, hands the engine back and
 * is unloaded with the process's dlclose().
 * Return: 0, -EPIPE (the agent did not answer: the process died?), the
 * agent's refusal to release the engine (-EBUSY: still in use), or the
 * errno of the dlclose() call.
 */
int pk_attach_close(struct pk_attach *a);

#endif
