// SPDX-License-Identifier: MIT
/*
 * `probekit trace -p PID` and `probekit list -p PID`: put the agent into a
 * running process and take it out again.
 *
 * Loading borrows one thread with ptrace for two calls: the process's own
 * dlopen() of the agent, then pk_agent_attach(), which connects back to
 * us over an abstract unix socket and starts the agent's thread. The
 * thread is chosen so that those calls cannot deadlock: one blocked in a
 * system call (it holds no lock of the C library's that dlopen needs) or
 * one running outside the C library and the loader; any other is let go
 * and tried again a moment later. Everything else happens on the socket,
 * whose closing (our death) makes the agent disarm by itself.
 *
 * Unloading is the reverse: the agent removes its probes and hands the
 * engine back, its thread ends, and a borrowed thread calls dlclose().
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/proto.h"
#include "attach/inject.h"
#include "cli/attach.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/tracefs.h"
#include "sym/sym.h"

#define RTLD_NOW_ 0x2 /* <dlfcn.h>'s value; the call runs in the other process */

/* A field of /proc/PID/status ("Uid:", "TracerPid:", "State:"), or "". */
static void status_field(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64], line[256];
	size_t k = strlen(key);
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, k))
			continue;
		snprintf(buf, size, "%s", line + k + strspn(line + k, " \t"));
		buf[strcspn(buf, "\n")] = 0;
		break;
	}
	fclose(f);
}

static void comm_of(pid_t pid, char *buf, size_t size)
{
	char path[64], *text;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	buf[0] = 0;
	if (!pk_file_read(path, &text, NULL)) {
		snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
		free(text);
	}
}

/* A zombie (or a dead task) is there in /proc but runs no more. */
static int is_zombie(pid_t pid)
{
	char state[16];

	status_field(pid, "State:", state, sizeof(state));
	return state[0] == 'Z' || state[0] == 'X';
}

/*
 * What /proc/PID/maps tells: the executable ranges of the C library and the
 * loader (no place to borrow a thread in), whether the loader is there at
 * all, and whether @agent (a file name) is mapped.
 */
struct maps_info {
	uintptr_t lo[16], hi[16];
	int n;
	int has_ld;
	int has_agent;
};

/*
 * What can be known before touching the process, each refusal with what to
 * do about it. Return: 0 or the negative errno of the refusal.
 */
static int preflight(struct pk_attach *a)
{
	char path[64], buf[256], comm[32];
	unsigned int uid_r = 0, uid_e = 0;
	Elf64_Ehdr eh;
	int fd, tracer;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d", (int)a->pid);
	if (a->pid <= 0 || access(path, F_OK)) {
		fprintf(stderr, "%s: no process %d\n", a->who, (int)a->pid);
		return -ESRCH;
	}
	if (is_zombie(a->pid)) {
		fprintf(stderr,
			"%s: process %d has exited (it is a zombie waiting for its parent)\n",
			a->who, (int)a->pid);
		return -ESRCH;
	}
	if (a->pid == getpid()) {
		fprintf(stderr, "%s: process %d is probekit itself\n", a->who, (int)a->pid);
		return -EINVAL;
	}
	status_field(a->pid, "Uid:", buf, sizeof(buf));
	if (sscanf(buf, "%u %u", &uid_r, &uid_e) == 2 && geteuid() != 0 &&
	    (uid_r != geteuid() || uid_e != geteuid())) {
		fprintf(stderr,
			"%s: permission denied: process %d belongs to user %u and you are user %u; "
			"run probekit as that user or as root\n",
			a->who, (int)a->pid, uid_e, (unsigned int)geteuid());
		return -EPERM;
	}
	status_field(a->pid, "TracerPid:", buf, sizeof(buf));
	tracer = atoi(buf);
	if (tracer) {
		comm_of(tracer, comm, sizeof(comm));
		fprintf(stderr,
			"%s: process %d is already traced by process %d (%s); a process has one "
			"ptrace tracer at a time: detach that one first\n",
			a->who, (int)a->pid, tracer, comm[0] ? comm : "?");
		return -EBUSY;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)a->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		if (err == -EACCES || err == -EPERM)
			fprintf(
			    stderr,
			    "%s: permission denied reading process %d (not dumpable, or another "
			    "user's): run probekit as root\n",
			    a->who, (int)a->pid);
		else
			fprintf(stderr, "%s: process %d: %s: %s\n", a->who, (int)a->pid, path,
				strerror(-err));
		return err;
	}
	n = pread(fd, &eh, sizeof(eh), 0);
	close(fd);
	if (n < (ssize_t)EI_NIDENT || memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		fprintf(stderr, "%s: process %d does not run an ELF program\n", a->who,
			(int)a->pid);
		return -ENOEXEC;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || n != sizeof(eh) ||
	    eh.e_machine != ARCH_ELF_MACHINE) {
		fprintf(stderr,
			"%s: process %d is not an " ARCH_NAME
			" program (ELF class %d, machine %d): "
			"probekit probes " ARCH_NAME " processes only\n",
			a->who, (int)a->pid, eh.e_ident[EI_CLASS] == ELFCLASS64 ? 64 : 32,
			(int)eh.e_machine);
		return -ENOEXEC;
	}
	return 0;
}

static int read_maps(pid_t pid, const char *agent, struct maps_info *m)
{
	char path[64], line[4096], file[4096], perm[8];
	unsigned long lo, hi;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *base;

		file[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095[^\n]", &lo, &hi, perm, file) < 3)
			continue;
		base = strrchr(file, '/');
		base = base ? base + 1 : file;
		/* A copy unlinked once loaded reads "NAME (deleted)". */
		if (agent && !strncmp(base, agent, strlen(agent)))
			m->has_agent = 1;
		if (!strncmp(base, "ld-linux", 8))
			m->has_ld = 1;
		if (perm[2] != 'x' || (strncmp(base, "libc.so", 7) &&
				       strncmp(base, "ld-linux", 8) && strncmp(base, "libc-", 5)))
			continue;
		if (m->n < 16) {
			m->lo[m->n] = lo;
			m->hi[m->n++] = hi;
		}
	}
	fclose(f);
	return 0;
}

/* No loader mapped: nothing in the process can load a library. */
static int check_dynamic(struct pk_attach *a)
{
	struct maps_info m;

	if (read_maps(a->pid, NULL, &m)) {
		fprintf(stderr, "%s: process %d has exited\n", a->who, (int)a->pid);
		return -ESRCH;
	}
	if (!m.has_ld) {
		fprintf(stderr,
			"%s: process %d is statically linked: there is no loader in it to load "
			"the agent with; the kernel's uprobes can trace it: probekit trace "
			"--kernel 'p /proc/%d/exe:main' (any function of it)\n",
			a->who, (int)a->pid, (int)a->pid);
		return -ENOEXEC;
	}
	return 0;
}

static int in_ranges(const struct maps_info *r, uintptr_t pc)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (pc >= r->lo[i] && pc < r->hi[i])
			return 1;
	return 0;
}

static void say_ptrace_error(const struct pk_attach *a, int err)
{
	char scope[16] = "";
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");

	if (f) {
		if (!fgets(scope, sizeof(scope), f))
			scope[0] = 0;
		fclose(f);
		scope[strcspn(scope, "\n")] = 0;
	}
	if (err == -EPERM && scope[0] && strcmp(scope, "0"))
		fprintf(stderr,
			"%s: permission denied by ptrace_scope=%s "
			"(/proc/sys/kernel/yama/ptrace_scope): run probekit as root, or "
			"set it to 0 with 'sysctl kernel.yama.ptrace_scope=0'\n",
			a->who, scope);
	else if (err == -EPERM)
		fprintf(stderr,
			"%s: permission denied: cannot ptrace process %d (another user's, not "
			"dumpable, or already traced): run probekit as root\n",
			a->who, (int)a->pid);
	else if (err == -ESRCH)
		fprintf(stderr, "%s: process %d has exited\n", a->who, (int)a->pid);
	else
		fprintf(stderr, "%s: cannot ptrace process %d: %s\n", a->who, (int)a->pid,
			strerror(-err));
}

/*
 * Borrow a thread where calling into the C library cannot deadlock (see the
 * top of the file). Return: 0 with @in attached, or a negative errno
 * (already reported).
 */
static int borrow_thread(struct pk_attach *a, struct pk_inject *in)
{
	char path[64];
	double give_up = pk_now_s() + 2.0;
	struct maps_info r;
	int err = -ESRCH;

	while (pk_now_s() < give_up) {
		DIR *d;
		struct dirent *de;

		err = read_maps(a->pid, NULL, &r);
		if (err) {
			fprintf(stderr, "%s: process %d has exited\n", a->who, (int)a->pid);
			return -ESRCH;
		}
		snprintf(path, sizeof(path), "/proc/%d/task", (int)a->pid);
		d = opendir(path);
		if (!d) {
			fprintf(stderr, "%s: process %d has exited\n", a->who, (int)a->pid);
			return -ESRCH;
		}
		while ((de = readdir(d))) {
			pid_t tid = atoi(de->d_name);

			if (tid <= 0)
				continue;
			err = pk_inject_attach(in, tid);
			if (err == -ESRCH)
				continue; /* that thread just ended */
			if (err) {
				closedir(d);
				say_ptrace_error(a, err);
				return err;
			}
			/* In a system call, or outside libc and ld.so. */
			if (arch_uregs_in_syscall(&in->saved) ||
			    !in_ranges(&r, arch_uregs_ip(&in->saved))) {
				closedir(d);
				return 0;
			}
			a->retries++;
			pk_inject_detach(in);
		}
		closedir(d);
		usleep(1000);
	}
	fprintf(stderr,
		"%s: every thread of process %d stayed inside the C library for 2 s; "
		"not loading the agent there (it could deadlock on a lock they hold)\n",
		a->who, (int)a->pid);
	return -EAGAIN;
}

/* The agent as a path inside the process's root: ours, or a copy placed there. */
static int agent_in_target(struct pk_attach *a, const char *agent)
{
	char there[PATH_MAX + 64], buf[65536];
	struct stat ours, theirs;
	int in, out, err = 0;
	ssize_t n;

	if (stat(agent, &ours)) {
		fprintf(stderr, "%s: the agent %s is missing: %s\n", a->who, agent,
			strerror(errno));
		return -ENOENT;
	}
	snprintf(there, sizeof(there), "/proc/%d/root%s", (int)a->pid, agent);
	if (!stat(there, &theirs) && theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
		snprintf(a->agent, sizeof(a->agent), "%s", agent);
		return 0;
	}
	/* Another mount namespace (a container): copy the agent into its /tmp. */
	snprintf(a->agent, sizeof(a->agent), "/tmp/.probekit-agent-%d.so", (int)getpid());
	snprintf(a->copied, sizeof(a->copied), "/proc/%d/root%s", (int)a->pid, a->agent);
	in = open(agent, O_RDONLY | O_CLOEXEC);
	out = open(a->copied, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			err = -EIO;
	if (in < 0 || out < 0 || err) {
		fprintf(stderr,
			"%s: the agent is not reachable from process %d's root and cannot be "
			"copied to %s: %s\n",
			a->who, (int)a->pid, a->copied, strerror(errno));
		err = -EACCES;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err) {
		unlink(a->copied);
		a->copied[0] = 0;
	}
	return err;
}

static int listen_socket(struct pk_attach *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unsigned char rnd[8];
	size_t n;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	snprintf(a->sockname, sizeof(a->sockname), "probekit-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
		 (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	n = strlen(a->sockname);
	memcpy(sa.sun_path + 1, a->sockname, n);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0 ||
	    bind(a->listen_fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) ||
	    listen(a->listen_fd, 1))
		return -errno;
	return 0;
}

/* A C string of the process (dlerror()'s message). */
static void read_string(pid_t pid, unsigned long addr, char *buf, size_t size)
{
	struct iovec l = {buf, size - 1}, r = {(void *)addr, size - 1};
	ssize_t n = addr ? process_vm_readv(pid, &l, 1, &r, 1, 0) : -1;

	buf[n > 0 ? (size_t)n : 0] = 0;
}

static int call(struct pk_attach *a, struct pk_inject *in, unsigned long fn,
		const unsigned long *args, int nargs, unsigned long *ret, const char *what)
{
	int err = pk_inject_call(in, fn, args, nargs, ret);

	if (err)
		fprintf(stderr, "%s: calling %s in process %d failed: %s\n", a->who, what,
			(int)a->pid, err == -ESRCH ? "the process died" : strerror(-err));
	return err;
}

/* Load the agent with the process's dlopen() and have it connect to @a->sockname. */
static int inject_agent(struct pk_attach *a)
{
	struct pk_inject in;
	struct pk_sym_proc *syms = pk_sym_proc_open_only(a->pid, "libc.so.6");
	const char *agent_base = strrchr(a->agent, '/') + 1;
	unsigned long args[2], ret = 0, s_path, s_sock;
	uintptr_t dlopen_at = 0, dlerror_at = 0, attach_at = 0;
	int err;

	if (!syms || pk_sym_proc_lookup(syms, "libc.so.6", "dlopen", &dlopen_at)) {
		fprintf(stderr, "%s: process %d has no dlopen() (not a glibc program?)\n", a->who,
			(int)a->pid);
		pk_sym_proc_close(syms);
		return -ENOEXEC;
	}
	pk_sym_proc_lookup(syms, "libc.so.6", "dlerror", &dlerror_at);
	pk_sym_proc_lookup(syms, "libc.so.6", "dlclose", &a->dlclose_at);
	err = borrow_thread(a, &in);
	if (err) {
		pk_sym_proc_close(syms);
		return err;
	}
	s_path = pk_inject_push_string(&in, a->agent);
	s_sock = pk_inject_push_string(&in, a->sockname);
	args[0] = s_path;
	args[1] = RTLD_NOW_;
	err = !s_path || !s_sock ? -EFAULT : call(a, &in, dlopen_at, args, 2, &ret, "dlopen()");
	if (!err && !ret) {
		char msg[512] = "";

		if (dlerror_at && !pk_inject_call(&in, dlerror_at, NULL, 0, &ret))
			read_string(a->pid, ret, msg, sizeof(msg));
		fprintf(stderr, "%s: process %d could not load the agent: %s\n", a->who,
			(int)a->pid, msg[0] ? msg : "dlopen() failed");
		err = -ENOEXEC;
	}
	if (!err) {
		a->handle = ret;
		pk_sym_proc_only(syms, agent_base);
		pk_sym_proc_refresh(syms);
		if (pk_sym_proc_lookup(syms, agent_base, "pk_agent_attach", &attach_at)) {
			fprintf(stderr,
				"%s: the agent loaded in process %d has no pk_agent_attach\n",
				a->who, (int)a->pid);
			err = -ENOENT;
		}
	}
	if (!err) {
		args[0] = s_sock;
		err = call(a, &in, attach_at, args, 1, &ret, "the agent");
		if (!err && (int)ret) {
			fprintf(stderr, "%s: the agent in process %d cannot reach probekit: %s%s\n",
				a->who, (int)a->pid, strerror(-(int)ret),
				(int)ret == -ECONNREFUSED ? " (another network namespace?)" : "");
			err = (int)ret;
		}
	}
	pk_inject_detach(&in);
	pk_sym_proc_close(syms);
	return err;
}

/* The agent's connection: from the process, nobody else (the name is guessable). */
static int accept_agent(struct pk_attach *a)
{
	struct pollfd p = {.fd = a->listen_fd, .events = POLLIN};
	struct ucred cr;
	socklen_t cl = sizeof(cr);

	if (poll(&p, 1, 5000) != 1) {
		fprintf(stderr, "%s: the agent in process %d did not connect in 5 s\n", a->who,
			(int)a->pid);
		return -ETIMEDOUT;
	}
	a->sock = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (a->sock < 0 || getsockopt(a->sock, SOL_SOCKET, SO_PEERCRED, &cr, &cl) ||
	    cr.pid != a->pid) {
		fprintf(stderr, "%s: a process other than %d connected; refused\n", a->who,
			(int)a->pid);
		return -EPERM;
	}
	close(a->listen_fd);
	a->listen_fd = -1;
	return 0;
}

int pk_attach_open(struct pk_attach *a, pid_t pid, const char *who)
{
	char agent[PATH_MAX];
	int err;

	memset(a, 0, sizeof(*a));
	a->pid = pid;
	a->who = who;
	a->listen_fd = a->sock = a->pidfd = -1;
	a->t_start = pk_now_s();
	err = preflight(a);
	if (!err)
		err = check_dynamic(a);
	if (err)
		return err;
	pk_agent_path(agent, sizeof(agent));
	err = agent_in_target(a, agent);
	if (!err)
		err = listen_socket(a);
	if (!err)
		err = inject_agent(a);
	if (a->copied[0]) {
		/* Mapped by now (or not needed): the copy must not outlive us. */
		unlink(a->copied);
		a->copied[0] = 0;
	}
	if (!err)
		err = accept_agent(a);
	if (!err)
		a->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	a->t_attached = pk_now_s();
	return err;
}

int pk_attach_send(struct pk_attach *a, char cmd, int ctl_fd, int ring_fd)
{
	int fds[2] = {ctl_fd, ring_fd};
	char ctrl[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = {&cmd, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (ctl_fd >= 0) {
		struct cmsghdr *c;

		memset(ctrl, 0, sizeof(ctrl));
		mh.msg_control = ctrl;
		mh.msg_controllen = sizeof(ctrl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(c), fds, sizeof(fds));
	}
	return sendmsg(a->sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

static int read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	char *p = buf;
	double end = pk_now_s() + timeout_ms / 1000.0;

	while (n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		ssize_t r;
		int left = (int)((end - pk_now_s()) * 1000);

		if (left <= 0 || poll(&pf, 1, left) != 1)
			return -ETIMEDOUT;
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

char *pk_attach_list(struct pk_attach *a, size_t *len)
{
	uint64_t n;
	char *text;

	if (pk_attach_send(a, PK_ATTACH_LIST, -1, -1) || read_full(a->sock, &n, sizeof(n), 60000) ||
	    n > (1ull << 31))
		return NULL;
	text = malloc(n + 1);
	if (!text || read_full(a->sock, text, n, 60000)) {
		free(text);
		return NULL;
	}
	text[n] = 0;
	*len = n;
	return text;
}

int pk_attach_alive(const struct pk_attach *a)
{
	struct pollfd p = {.fd = a->pidfd, .events = POLLIN};
	char path[64];

	if (a->pidfd >= 0)
		return poll(&p, 1, 0) == 0;
	snprintf(path, sizeof(path), "/proc/%d", (int)a->pid);
	return !access(path, F_OK) && !is_zombie(a->pid);
}

static int agent_mapped(pid_t pid, const char *agent)
{
	const char *base = strrchr(agent, '/');
	struct maps_info m;

	return base && !read_maps(pid, base + 1, &m) && m.has_agent;
}

int pk_attach_close(struct pk_attach *a)
{
	struct pk_agent_reply reply;
	char task[64];
	double end;
	int err = 0;

	a->t_detach = pk_now_s();
	if (a->sock < 0)
		goto out;
	if (pk_attach_send(a, PK_ATTACH_DETACH, -1, -1) ||
	    read_full(a->sock, &reply, sizeof(reply), 10000)) {
		if (pk_attach_alive(a))
			fprintf(stderr, "%s: the agent in process %d did not answer the detach\n",
				a->who, (int)a->pid);
		err = -EPIPE;
		goto out;
	}
	if (reply.err) {
		fprintf(stderr,
			"%s: the probes are removed, but the agent stays loaded in process %d "
			"(inert): %s%s\n",
			a->who, (int)a->pid,
			reply.pending ? "calls are still inside return-probed functions"
				      : strerror(-reply.err),
			reply.pending ? "; it is unloaded by nothing, but harmless" : "");
		err = reply.err;
		goto out;
	}
	/* Its thread runs C library code on its way out; dlclose only once it is gone. */
	snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)a->pid, (int)reply.tid);
	for (end = pk_now_s() + 2; !access(task, F_OK) && pk_now_s() < end;)
		usleep(200);
	if (a->handle && a->dlclose_at && pk_attach_alive(a)) {
		struct pk_inject in;
		unsigned long arg = a->handle, ret = 0;
		uint32_t i;

		err = borrow_thread(a, &in);
		if (!err) {
			/* Ours, and those of tracers that were killed before they could. */
			for (i = 0; !err && !ret && i <= reply.orphans; i++)
				err = call(a, &in, a->dlclose_at, &arg, 1, &ret, "dlclose()");
			pk_inject_detach(&in);
		}
		if (!err && ret)
			err = -EBUSY;
	}
out:
	if (a->sock >= 0)
		close(a->sock);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	if (a->pidfd >= 0)
		close(a->pidfd);
	a->sock = a->listen_fd = a->pidfd = -1;
	a->t_detached = pk_now_s();
	a->unloaded = !err && !agent_mapped(a->pid, a->agent);
	return err;
}
