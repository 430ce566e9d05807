// SPDX-License-Identifier: MIT
/*
 * The kernel baseline: bpftrace attaches a uprobe (or uretprobe) to this very
 * process's bench_target while we call it, so the cost per hit is measured
 * with the same loop and clock as probekit's.
 *
 * We know the probe is live when bpftrace has said "Attaching..." and the
 * kernel has written its int3 over our copy of bench_target's first byte:
 * that byte is the one thing that proves the breakpoint is in *our* mapping.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define TRACEFS		  "/sys/kernel/tracing"
#define ATTACH_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS	  10000
#define INT3		  0xcc

struct tracer {
	pid_t pid;
	int fd;		/* bpftrace's stdout and stderr */
	char out[8192]; /* the tail of what it printed */
	size_t len;
	int status;
	int exited;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned char entry_byte(void)
{
	return *(volatile unsigned char *)(void *)bench_target;
}

/* bpftrace resolves probes through tracefs on some paths; mount it if nobody has. */
static void tracefs_mount(void)
{
	DIR *d = opendir(TRACEFS);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	if (empty)
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
}

static void tracer_read(struct tracer *t, int timeout_ms)
{
	struct pollfd pfd = {.fd = t->fd, .events = POLLIN};
	char buf[1024];
	ssize_t n;

	if (t->fd < 0) {
		usleep((useconds_t)timeout_ms * 1000);
		return;
	}
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return;
	n = read(t->fd, buf, sizeof(buf));
	if (n <= 0) {
		close(t->fd);
		t->fd = -1;
		return;
	}
	/* Keep the tail: the reason for a failure is printed last. */
	if (t->len + (size_t)n >= sizeof(t->out)) {
		size_t drop = t->len + (size_t)n - sizeof(t->out) + 1;

		drop = drop > t->len ? t->len : drop;
		memmove(t->out, t->out + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->out + t->len, buf, (size_t)n);
	t->len += (size_t)n;
	t->out[t->len] = 0;
}

static int tracer_alive(struct tracer *t)
{
	if (!t->exited && waitpid(t->pid, &t->status, WNOHANG) == t->pid)
		t->exited = 1;
	return !t->exited;
}

/* The last line bpftrace printed that looks like an error, for the n/a reason. */
static void tracer_reason(const struct tracer *t, char *why, size_t whylen)
{
	const char *best = NULL, *p = t->out;

	while (p && *p) {
		const char *nl = strchr(p, '\n');

		if (!strncmp(p, "ERROR", 5) && !strstr(p, "RLIMIT_MEMLOCK"))
			best = p;
		else if (!best && nl != p && strncmp(p, "Attaching", 9))
			best = p;
		p = nl ? nl + 1 : NULL;
	}
	if (best) {
		size_t n = strcspn(best, "\n");

		snprintf(why, whylen, "bpftrace: %.*s", (int)(n > 200 ? 200 : n), best);
	} else if (WIFEXITED(t->status)) {
		snprintf(why, whylen, "bpftrace exited with status %d", WEXITSTATUS(t->status));
	} else {
		snprintf(why, whylen, "bpftrace killed by signal %d", WTERMSIG(t->status));
	}
}

static int tracer_start(struct tracer *t, const char *prog)
{
	pid_t parent = getpid();
	int fds[2];

	memset(t, 0, sizeof(*t));
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	t->pid = fork();
	if (t->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (!t->pid) {
		struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
		cpu_set_t all;
		int i;

		/* If the benchmark dies, bpftrace must still detach and exit. */
		prctl(PR_SET_PDEATHSIG, SIGINT);
		if (getppid() != parent)
			_exit(1);
		/* Old bpftrace sizes its maps under the memlock limit and warns otherwise. */
		setrlimit(RLIMIT_MEMLOCK, &rl);
		/* The benchmark is pinned; bpftrace should not compete for its CPU. */
		CPU_ZERO(&all);
		for (i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &all);
		sched_setaffinity(0, sizeof(all), &all);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execlp("bpftrace", "bpftrace", "-B", "none", "-e", prog, (char *)NULL);
		dprintf(1, "ERROR: cannot run bpftrace: %s\n", strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	t->fd = fds[0];
	return 0;
}

/* SIGINT, not SIGKILL: bpftrace prints the map and detaches on SIGINT. */
static void tracer_stop(struct tracer *t)
{
	long deadline = now_ms() + STOP_TIMEOUT_MS;

	if (tracer_alive(t))
		kill(t->pid, SIGINT);
	while (t->fd >= 0 && now_ms() < deadline)
		tracer_read(t, 100);
	if (tracer_alive(t)) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &t->status, 0);
		t->exited = 1;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Returns 0 once attached, -1 if bpftrace exited, -2 on timeout. */
static int wait_attached(struct tracer *t)
{
	long deadline = now_ms() + ATTACH_TIMEOUT_MS;

	while (now_ms() < deadline) {
		tracer_read(t, 10);
		if (strstr(t->out, "Attaching") && entry_byte() == INT3)
			return 0;
		if (!tracer_alive(t)) {
			/* Drain what it said on its way out. */
			while (t->fd >= 0)
				tracer_read(t, 100);
			return -1;
		}
	}
	return -2;
}

/*
 * Remove uprobe_events entries on our executable that bpftrace left behind
 * (older versions create them through tracefs). Returns how many.
 */
static int remove_stale_events(const char *exe)
{
	char line[4096], cmd[sizeof(line) + 4];
	int removed = 0;
	FILE *f = fopen(TRACEFS "/uprobe_events", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *name = line + 2, *end = strchr(name, ' ');
		int fd;

		if (!strstr(line, exe) || !end || line[1] != ':')
			continue;
		*end = 0;
		snprintf(cmd, sizeof(cmd), "-:%s\n", name);
		fd = open(TRACEFS "/uprobe_events", O_WRONLY | O_APPEND);
		if (fd >= 0 && write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd))
			removed++;
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return removed;
}

static long parse_count(const char *out)
{
	const char *p = strstr(out, "@n: ");

	return p ? strtol(p + 4, NULL, 10) : -1;
}

int uprobe_measure(const char *exe, int ret, int runs, double run_ns, double *ns, long *iters,
		   char *why, size_t whylen, char *note, size_t notelen)
{
	double with[BENCH_MAX_RUNS], without[BENCH_MAX_RUNS], base;
	struct tracer t;
	char prog[4096];
	long n, calls = 0, hits, deadline;
	int i, err, stale;

	note[0] = 0;
	if (entry_byte() == INT3) {
		snprintf(why, whylen, "%s already starts with int3 (a stale uprobe?)", BENCH_SYM);
		return -1;
	}
	tracefs_mount();
	snprintf(prog, sizeof(prog), "%s:%s:%s { @n = count(); }", ret ? "uretprobe" : "uprobe",
		 exe, BENCH_SYM);
	if (tracer_start(&t, prog)) {
		snprintf(why, whylen, "cannot start bpftrace: %s", strerror(errno));
		return -1;
	}
	err = wait_attached(&t);
	if (err) {
		tracer_stop(&t);
		if (err == -2)
			snprintf(why, whylen, "no breakpoint on %s %d s after starting bpftrace",
				 BENCH_SYM, ATTACH_TIMEOUT_MS / 1000);
		else
			tracer_reason(&t, why, whylen);
		return -1;
	}

	/*
	 * Calibrate with the probe live, since a hit costs three orders of
	 * magnitude more than a call. These calls count in bpftrace's @n too.
	 */
	for (n = 256;; n *= 2) {
		double el = bench_loop(n);

		calls += n;
		if (el >= 10e6 || n >= 1L << 30) {
			n = (long)(n * run_ns / el);
			break;
		}
	}
	if (n < 1)
		n = 1;
	for (i = 0; i < runs; i++) {
		with[i] = bench_loop(n);
		calls += n;
	}
	tracer_stop(&t);

	/* The kernel drops the breakpoint when the last perf event closes; allow it a moment. */
	deadline = now_ms() + 2000;
	while (entry_byte() == INT3 && now_ms() < deadline)
		usleep(1000);
	stale = remove_stale_events(exe);
	while (entry_byte() == INT3 && now_ms() < deadline + 2000)
		usleep(1000);
	if (entry_byte() == INT3) {
		snprintf(why, whylen, "uprobe still installed after bpftrace exited");
		return -1;
	}

	for (i = 0; i < runs; i++)
		without[i] = bench_loop(n);
	base = bench_median(without, runs);
	for (i = 0; i < runs; i++)
		ns[i] = (with[i] - base) / (double)n;
	*iters = n;

	hits = parse_count(t.out);
	if (hits != calls)
		snprintf(note, notelen, "bpftrace counted %ld hits, expected %ld", hits, calls);
	if (stale)
		snprintf(note + strlen(note), notelen - strlen(note),
			 "%sremoved %d stale uprobe_events", note[0] ? "; " : "", stale);
	return 0;
}
