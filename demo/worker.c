// SPDX-License-Identifier: MIT
/*
 * worker: the program the example modules are preloaded into. It knows
 * nothing of probekit; it plays the kernel's part, doing a little of what
 * the modules watch: calls to do_work() with known arguments, allocations,
 * opening files and running a program.
 *
 * Its stdout is the same on every run, so that a run with a module can be
 * compared line by line with a run without one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_ALLOCS 4

static const int work_args[][3] = {
    {1, 2, 3},
    {4, 5, 6},
    {7, 8, 9},
};

/*
 * The function the kprobe and kretprobe examples probe. noipa keeps it one
 * out-of-line function with this signature: no clone with constants
 * propagated into it, no return value the callers are assumed not to use.
 */
__attribute__((noinline, noipa)) int do_work(int a, int b, int c)
{
	return a * b + c;
}

/*
 * The fault injection example fails the Nth malloc() of the main thread,
 * counted from program start, so this runs first (before stdio or fopen()
 * allocate) and reports only after the last allocation: call N is then
 * allocation N.
 */
static void allocate(void)
{
	void *block[NR_ALLOCS];
	int i, ok = 0;

	for (i = 0; i < NR_ALLOCS; i++) {
		size_t size = (size_t)64 << i;

		block[i] = malloc(size);
		if (block[i]) {
			memset(block[i], i, size);
			ok++;
		}
	}
	for (i = 0; i < NR_ALLOCS; i++)
		if (!block[i])
			printf("malloc failed at allocation %d\n", i + 1);
	printf("allocations: %d of %d succeeded\n", ok, NR_ALLOCS);
	for (i = 0; i < NR_ALLOCS; i++)
		free(block[i]);
}

static void work(void)
{
	size_t i;

	for (i = 0; i < sizeof(work_args) / sizeof(work_args[0]); i++) {
		const int *a = work_args[i];

		printf("do_work(%d, %d, %d) = %d\n", a[0], a[1], a[2], do_work(a[0], a[1], a[2]));
	}
}

/* fopen() and open() reach different libc entry points than openat(). */
static void open_files(const char *self)
{
	unsigned char magic[4];
	FILE *f;
	int fd;

	f = fopen("/etc/hostname", "r");
	/* Not the contents: they differ from machine to machine. */
	printf("fopen /etc/hostname: %s\n", f ? "ok" : strerror(errno));
	if (f)
		fclose(f);

	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open argv[0]: %s\n", strerror(errno));
		return;
	}
	if (read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
	    !memcmp(magic, "\177ELF", sizeof(magic)))
		printf("open argv[0]: ok, an ELF file\n");
	else
		printf("open argv[0]: ok, not an ELF file\n");
	close(fd);
}

static void run_true(void)
{
	char *const argv[] = {"/bin/true", NULL};
	/* A fixed environment: the child behaves the same whatever ours holds (LD_PRELOAD too). */
	char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
	int status;
	pid_t pid;

	/* The child must not inherit unwritten output and print it a second time. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", strerror(errno));
		return;
	}
	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			printf("waitpid: %s\n", strerror(errno));
			return;
		}
	}
	if (WIFEXITED(status))
		printf("/bin/true exited with status %d\n", WEXITSTATUS(status));
	else
		printf("/bin/true killed by signal %d\n", WTERMSIG(status));
}

int main(int argc, char **argv)
{
	/*
	 * Our own buffer, so that stdio allocates nothing; line buffered, so
	 * that our lines and a module's stderr lines interleave in the order
	 * they happened even through a pipe.
	 */
	static char outbuf[BUFSIZ];

	(void)argc;
	setvbuf(stdout, outbuf, _IOLBF, sizeof(outbuf));
	allocate();
	work();
	open_files(argv[0]);
	run_true();
	printf("worker: done\n");
	return 0;
}
