// SPDX-License-Identifier: MIT
/*
 * posix_spawn and posix_spawnp (so system() and popen() too) run by the
 * engine instead of glibc.
 *
 * glibc's child shares the parent's memory, so it shares the probes' int3
 * bytes, and it runs with every signal blocked (blocked by a raw system
 * call, past the pthread_sigmask guard), then with SIGTRAP reset to its
 * default. Its first call, pthread_sigmask, is where the engine's own
 * guard sits: the kernel kills a thread that traps with SIGTRAP blocked,
 * and the child died before exec (status 5, nothing read by popen). A user
 * probe on anything the child calls (dup2, close, execve...) does the same.
 *
 * Here the child runs engine code only (no int3 can be there) and raw
 * system calls, in glibc's order and with glibc's results. The file
 * actions are glibc's private layout: used only on the glibc versions
 * whose layout is known, otherwise glibc's own code runs as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "internal.h"

/* glibc's struct __spawn_action (posix/spawn_int.h, 2.35 to at least 2.41). */
enum { DO_CLOSE, DO_DUP2, DO_OPEN, DO_CHDIR, DO_FCHDIR, DO_CLOSEFROM, DO_TCSETPGRP, DO_NR };
struct glibc_spawn_action {
	int tag;
	union {
		int fd;
		struct {
			int fd, newfd;
		} dup2;
		struct {
			int fd;
			const char *path;
			int oflag;
			mode_t mode;
		} open;
		const char *path;
	} u;
};

struct spawn_call {
	const char *file;
	const posix_spawn_file_actions_t *fa;
	const posix_spawnattr_t *attr;
	char *const *argv, *const *envp;
	const char *search; /* posix_spawnp without a '/' in file: $PATH */
	unsigned long oldmask;
	int err;
};

#define STACK_SIZE (64 << 10)

static long sys6(long nr, long a, long b, long c, long d)
{
	return pk_syscall6(nr, a, b, c, d, 0, 0);
}

/* The kernel's struct sigaction: handler, flags, restorer, mask. */
struct ksigaction {
	unsigned long handler, flags, restorer, mask;
};

/* No handler of the program may run in a child sharing its memory; exec resets them anyway. */
static void reset_handlers(const posix_spawnattr_t *attr)
{
	static const struct ksigaction dfl;
	short flags = attr ? attr->__flags : 0;
	int sig;

	for (sig = 1; sig < 65; sig++) {
		struct ksigaction old;

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (!((flags & POSIX_SPAWN_SETSIGDEF) && sigismember(&attr->__sd, sig))) {
			if (sys6(SYS_rt_sigaction, sig, 0, (long)&old, 8) ||
			    old.handler == (unsigned long)SIG_DFL ||
			    old.handler == (unsigned long)SIG_IGN)
				continue;
		}
		sys6(SYS_rt_sigaction, sig, (long)&dfl, 0, 8);
	}
}

static long apply_attr(const posix_spawnattr_t *attr)
{
	short f = attr->__flags;
	long r = 0;

	if ((f & POSIX_SPAWN_SETSCHEDPARAM) && !(f & POSIX_SPAWN_SETSCHEDULER))
		r = sys6(SYS_sched_setparam, 0, (long)&attr->__sp, 0, 0);
	else if (f & POSIX_SPAWN_SETSCHEDULER)
		r = sys6(SYS_sched_setscheduler, 0, attr->__policy, (long)&attr->__sp, 0);
	if (!r && (f & POSIX_SPAWN_SETSID)) {
		r = sys6(SYS_setsid, 0, 0, 0, 0);
		r = r < 0 ? r : 0;
	}
	if (!r && (f & POSIX_SPAWN_SETPGROUP))
		r = sys6(SYS_setpgid, 0, attr->__pgrp, 0, 0);
	if (!r && (f & POSIX_SPAWN_RESETIDS)) {
		r = sys6(SYS_setresuid, -1, sys6(SYS_getuid, 0, 0, 0, 0), -1, 0);
		if (!r)
			r = sys6(SYS_setresgid, -1, sys6(SYS_getgid, 0, 0, 0, 0), -1, 0);
	}
	return r < 0 ? r : 0;
}

static long do_action(const struct glibc_spawn_action *a)
{
	long r;

	switch (a->tag) {
	case DO_CLOSE:
		r = sys6(SYS_close, a->u.fd, 0, 0, 0);
		/* glibc reports only a descriptor that cannot exist. */
		return r && a->u.fd < 0 ? -EBADF : 0;
	case DO_DUP2:
		if (a->u.dup2.fd == a->u.dup2.newfd) {
			/* POSIX: dup2 onto itself clears close-on-exec. */
			r = sys6(SYS_fcntl, a->u.dup2.fd, F_GETFD, 0, 0);
			return r < 0 ? r
				     : sys6(SYS_fcntl, a->u.dup2.fd, F_SETFD, r & ~FD_CLOEXEC, 0);
		}
		r = sys6(SYS_dup3, a->u.dup2.fd, a->u.dup2.newfd, 0, 0);
		return r < 0 ? r : 0;
	case DO_OPEN:
		sys6(SYS_close, a->u.open.fd, 0, 0, 0);
		r = sys6(SYS_openat, AT_FDCWD, (long)a->u.open.path, a->u.open.oflag | O_LARGEFILE,
			 a->u.open.mode);
		if (r < 0 || r == a->u.open.fd)
			return r < 0 ? r : 0;
		{
			long fd = r;

			r = sys6(SYS_dup3, fd, a->u.open.fd, 0, 0);
			sys6(SYS_close, fd, 0, 0, 0);
		}
		return r < 0 ? r : 0;
	case DO_CHDIR: return sys6(SYS_chdir, (long)a->u.path, 0, 0, 0);
	case DO_FCHDIR: return sys6(SYS_fchdir, a->u.fd, 0, 0, 0);
	case DO_CLOSEFROM: r = sys6(SYS_close_range, a->u.fd, ~0U, 0, 0); return r < 0 ? r : 0;
	case DO_TCSETPGRP: {
		int pgrp = (int)sys6(SYS_getpgid, 0, 0, 0, 0);

		return sys6(SYS_ioctl, a->u.fd, TIOCSPGRP, (long)&pgrp, 0);
	}
	}
	return -EINVAL;
}

/* execvpe's search without its shell fallback, as glibc's posix_spawnp. */
static long exec_search(const struct spawn_call *c)
{
	char buf[4096 + 256];
	const char *p = c->search;
	size_t flen = 0;
	int saw_eacces = 0;
	long r = -ENOENT;

	while (c->file[flen])
		flen++;
	if (!flen)
		return -ENOENT;
	if (flen > 255)
		return -ENAMETOOLONG;
	for (;;) {
		size_t n = 0, len, i;

		while (p[n] && p[n] != ':')
			n++;
		if (n + 1 + flen < sizeof(buf)) {
			/* An empty entry is the current directory. */
			for (len = 0; len < n; len++)
				buf[len] = p[len];
			if (n)
				buf[len++] = '/';
			for (i = 0; i <= flen; i++)
				buf[len + i] = c->file[i];
			r = sys6(SYS_execve, (long)buf, (long)c->argv, (long)c->envp, 0);
			if (r == -EACCES)
				saw_eacces = 1;
			else if (r != -ENOENT && r != -ESTALE && r != -ENOTDIR && r != -ENODEV &&
				 r != -ETIMEDOUT)
				return r;
		}
		if (!p[n])
			break;
		p += n + 1;
	}
	return saw_eacces ? -EACCES : r;
}

static int spawn_child(void *arg)
{
	struct spawn_call *c = arg;
	const struct glibc_spawn_action *a;
	long r = 0;
	int i;

	reset_handlers(c->attr);
	if (c->attr)
		r = apply_attr(c->attr);
	a = c->fa ? (const struct glibc_spawn_action *)(const void *)c->fa->__actions : NULL;
	for (i = 0; !r && a && i < c->fa->__used; i++)
		r = do_action(&a[i]);
	if (!r) {
		const void *mask = c->attr && (c->attr->__flags & POSIX_SPAWN_SETSIGMASK)
				       ? (const void *)&c->attr->__ss
				       : (const void *)&c->oldmask;

		sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)mask, 0, 8);
		r = c->search ? exec_search(c)
			      : sys6(SYS_execve, (long)c->file, (long)c->argv, (long)c->envp, 0);
	}
	c->err = (int)-r;
	return 127;
}

static int spawn(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[],
		 const char *search)
{
	struct spawn_call c = {file, fa, attr, argv, envp, search, 0, 0};
	unsigned long all = ~0UL;
	void *stack;
	long child;

	stack = (void *)pk_syscall6(SYS_mmap, 0, STACK_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if ((unsigned long)stack > -4096UL)
		return (int)-(long)stack;
	/* Nothing of the program's may run in the child: its handlers would run on our memory. */
	sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&c.oldmask, 8);
	child = arch_clone_vfork(spawn_child, &c, (char *)stack + STACK_SIZE);
	sys6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&c.oldmask, 0, 8);
	pk_syscall6(SYS_munmap, (long)stack, STACK_SIZE, 0, 0, 0, 0);
	if (child < 0)
		return (int)-child;
	if (c.err) {
		/* The child has exited (CLONE_VFORK): reap it, as glibc does. */
		while (pk_syscall6(SYS_wait4, child, 0, 0, 0, 0, 0) == -EINTR)
			;
		return c.err;
	}
	if (pid)
		*pid = (pid_t)child;
	return 0;
}

static int actions_known(const posix_spawn_file_actions_t *fa)
{
	const struct glibc_spawn_action *a;
	int i;

	if (!fa)
		return 1;
	a = (const struct glibc_spawn_action *)(const void *)fa->__actions;
	for (i = 0; i < fa->__used; i++)
		if (a[i].tag < 0 || a[i].tag >= DO_NR)
			return 0;
	return 1;
}

static int pk_posix_spawn(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return spawn(pid, file, fa, attr, argv, envp, NULL);
}

static int pk_posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	const char *search = NULL;

	if (!strchr(file, '/')) {
		search = getenv("PATH");
		if (!search)
			search = "/bin:/usr/bin";
	}
	return spawn(pid, file, fa, attr, argv, envp, search);
}

/*
 * The guards run last of their site's pre_handlers (dispatch.c), so that
 * the program's own probes on posix_spawn still see the call; the call then
 * goes on in the engine's version, with the same arguments and return address.
 */
static int redirect(struct pk_regs *r, uintptr_t to)
{
	unsigned long fa;

	/* posix_spawn(pid, path, file_actions, ...) */
	if (arch_regs_get_argument(r, 2, &fa) ||
	    !actions_known((const posix_spawn_file_actions_t *)fa))
		return 0;
	arch_regs_set_ip(r, to);
	return 1;
}

static int spawn_guard(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	return redirect(r, (uintptr_t)pk_posix_spawn);
}

static int spawnp_guard(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	return redirect(r, (uintptr_t)pk_posix_spawnp);
}

static struct pk_probe spawn_probes[] = {
    {.symbol_name = "libc.so.6:posix_spawn",
     .pre_handler = spawn_guard,
     .pk_priv.owner = PK_OWNER_INTERNAL},
    {.symbol_name = "libc.so.6:posix_spawnp",
     .pre_handler = spawnp_guard,
     .pk_priv.owner = PK_OWNER_INTERNAL},
};

void pk_spawn_init_late(void)
{
	const char *v = gnu_get_libc_version();
	int major = atoi(v), minor = strchr(v, '.') ? atoi(strchr(v, '.') + 1) : 0;
	size_t i;

	if (major != 2 || minor < 35 || minor > 41)
		return;
	for (i = 0; i < sizeof(spawn_probes) / sizeof(spawn_probes[0]); i++)
		pk_register_locked(&spawn_probes[i]);
}
