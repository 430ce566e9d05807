// SPDX-License-Identifier: MIT
/*
 * Starts children every way a program can (fork, vfork, clone with and
 * without CLONE_VM, posix_spawn with attributes and file actions,
 * posix_spawnp, system, popen) and prints what each child did and how it
 * ended. Under any probes the output must be the unprobed run's.
 * With PK_SPAWN_PROBES=sym,sym... it first registers probes on those
 * symbols through libprobekit (PK_SPAWN_LIB names the library).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/probekit.h"

extern char **environ;
static unsigned long hits;

static void status(const char *what, int st)
{
	if (WIFEXITED(st))
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: status %#x\n", what, st);
	fflush(stdout);
}

static int reap(const char *what, pid_t pid)
{
	int st = 0;

	if (pid < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	status(what, st);
	return st;
}

static int clone_child(void *arg)
{
	char *const argv[] = {"/bin/sh", "-c", arg, NULL};

	execve(argv[0], argv, environ);
	_exit(126);
}

static void by_clone(int vm)
{
	size_t sz = 256 << 10;
	char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pid = clone(clone_child, stack + sz, (vm ? CLONE_VM | CLONE_VFORK : 0) | SIGCHLD,
			  vm ? "echo clone-vm child" : "echo clone child");

	reap(vm ? "clone CLONE_VM" : "clone", pid);
	munmap(stack, sz);
}

static void by_spawn(void)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t mask, def;
	char *const av1[] = {"sh", "-c", "echo spawn-out; echo spawn-err >&2; pwd; cat <&5", NULL};
	char *const av2[] = {"sh", "-c", "trap - INT; kill -s USR1 $$; echo not reached", NULL};
	char *const av3[] = {"true", NULL};
	pid_t pid;
	int err;

	/* File actions of every kind: stderr to stdout, a file opened on fd 5, cwd /usr. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_addopen(&fa, 5, "/proc/self/comm", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 6, "/usr", O_RDONLY | O_DIRECTORY, 0);
	posix_spawn_file_actions_addchdir_np(&fa, "/tmp");
	posix_spawn_file_actions_addfchdir_np(&fa, 6);
	posix_spawn_file_actions_addclose(&fa, 7);
	posix_spawn_file_actions_addclosefrom_np(&fa, 8);
	err = posix_spawn(&pid, "/bin/sh", &fa, NULL, av1, environ);
	if (err)
		printf("posix_spawn actions: %s\n", strerror(err));
	else
		reap("posix_spawn actions", pid);
	posix_spawn_file_actions_destroy(&fa);

	/* Attributes: a new process group, USR1 left at its default with SETSIGDEF. */
	posix_spawnattr_init(&attr);
	sigemptyset(&mask);
	sigemptyset(&def);
	sigaddset(&def, SIGUSR1);
	posix_spawnattr_setsigmask(&attr, &mask);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETPGROUP);
	err = posix_spawn(&pid, "/bin/sh", NULL, &attr, av2, environ);
	if (err)
		printf("posix_spawn attrs: %s\n", strerror(err));
	else
		reap("posix_spawn attrs", pid);
	posix_spawnattr_destroy(&attr);

	err = posix_spawnp(&pid, "true", NULL, NULL, av3, environ);
	printf("posix_spawnp true: %s\n", err ? strerror(err) : "started");
	if (!err)
		reap("posix_spawnp true", pid);
	err = posix_spawn(&pid, "/nonexistent/prog", NULL, NULL, av3, environ);
	printf("posix_spawn missing: %s\n", err ? strerror(err) : "started");
	err = posix_spawnp(&pid, "no-such-program-pk", NULL, NULL, av3, environ);
	printf("posix_spawnp missing: %s\n", err ? strerror(err) : "started");
	err = posix_spawn(&pid, "/etc/hostname", NULL, NULL, av3, environ);
	printf("posix_spawn not executable: %s\n", err ? strerror(err) : "started");
}

static void by_popen(void)
{
	char buf[128] = "";
	FILE *f = popen("echo popen-hi", "r");

	if (!f || !fgets(buf, sizeof(buf), f))
		printf("popen r: read nothing\n");
	else
		printf("popen r: read %s", buf);
	if (f)
		status("pclose r", pclose(f));
	f = popen("tr a-z A-Z", "w");
	if (f) {
		fputs("popen-w\n", f);
		fflush(f);
		status("pclose w", pclose(f));
	}
}

static int count(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	(void)r;
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Probes through the library, on the symbols named in PK_SPAWN_PROBES. */
static void probe_with_library(void)
{
	const char *list = getenv("PK_SPAWN_PROBES"), *lib = getenv("PK_SPAWN_LIB");
	int (*reg)(struct pk_probe *);
	char *copy, *sym, *save;
	void *h;

	if (!list)
		return;
	h = dlopen(lib ? lib : "libprobekit.so", RTLD_NOW);
	reg = h ? (int (*)(struct pk_probe *))dlsym(h, "pk_register_probe") : NULL;
	if (!reg) {
		fprintf(stderr, "spawn_ways: %s\n", dlerror());
		exit(2);
	}
	copy = strdup(list);
	for (sym = strtok_r(copy, ",", &save); sym; sym = strtok_r(NULL, ",", &save)) {
		struct pk_probe *p = calloc(1, sizeof(*p));
		int err;

		p->symbol_name = sym;
		p->pre_handler = count;
		err = reg(p);
		if (err)
			fprintf(stderr, "spawn_ways: %s: %s\n", sym, strerror(-err));
	}
}

int main(void)
{
	pid_t pid;

	probe_with_library();
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Handlers of the program's own, which no child may run. */
	signal(SIGINT, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);

	pid = fork();
	if (!pid) {
		execlp("sh", "sh", "-c", "echo fork child", (char *)NULL);
		_exit(126);
	}
	reap("fork", pid);
	pid = vfork();
	if (!pid) {
		execl("/bin/sh", "sh", "-c", "echo vfork child", (char *)NULL);
		_exit(126);
	}
	reap("vfork", pid);
	by_clone(0);
	by_clone(1);
	by_spawn();
	status("system true", system("true"));
	status("system exit 3", system("echo system child; exit 3"));
	by_popen();
	if (getenv("PK_SPAWN_PROBES"))
		fprintf(stderr, "spawn_ways: %lu hits\n", hits);
	return 0;
}
