// SPDX-License-Identifier: MIT
/*
 * A program for `probekit trace -p` tests to attach to. Its output depends
 * only on its arguments, so a traced run must print exactly what an
 * untraced one does.
 *
 *   attach_target busy THREADS ITERS  each thread calls at_work() ITERS times
 *                                     (with short sleeps), then prints its sum
 *   attach_target malloc THREADS ITERS the same, each call wrapped in malloc/free
 *   attach_target read                 per line of stdin: at_work(length), printed
 *   attach_target seccomp THREADS ITERS busy, under a seccomp filter that
 *                                     refuses execve, ptrace and personality
 *   attach_target traceme              forks a child that its parent ptraces;
 *                                     prints the child's pid, waits
 *
 * "ready" goes to stderr once the work has started.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long iters;
static int use_malloc;

__attribute__((noinline)) long at_work(long x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 7 + 3;
}

__attribute__((noinline)) long at_other(long x)
{
	__asm__ volatile("" : "+r"(x));
	return x ^ 0x55;
}

static void *worker(void *arg)
{
	long id = (long)arg, i, sum = 0;
	struct timespec ts = {0, 200000};

	for (i = 0; i < iters; i++) {
		if (use_malloc) {
			/* Most of the time inside malloc and free: attach must not deadlock. */
			long *p = malloc(64 + (size_t)(i % 512));

			if (!p)
				abort();
			*p = at_work(i + id);
			sum += *p;
			free(p);
		} else {
			sum += at_work(i + id) + at_other(i);
		}
		if (i % 100 == 0)
			nanosleep(&ts, NULL);
	}
	return (void *)sum;
}

static int run_threads(int n)
{
	pthread_t t[256];
	long i;

	if (n < 1 || n > 256)
		return 2;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i))
			return 1;
	fprintf(stderr, "ready\n");
	for (i = 0; i < n; i++) {
		void *sum;

		pthread_join(t[i], &sum);
		printf("thread %ld sum %ld\n", i, (long)sum);
	}
	return 0;
}

static int install_seccomp(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, 3, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 3)
		iters = atol(argv[3]);
	if (!strcmp(mode, "busy") || !strcmp(mode, "malloc") || !strcmp(mode, "seccomp")) {
		use_malloc = !strcmp(mode, "malloc");
		if (!strcmp(mode, "seccomp") && install_seccomp()) {
			perror("seccomp");
			return 1;
		}
		return run_threads(argc > 2 ? atoi(argv[2]) : 4);
	}
	if (!strcmp(mode, "read")) {
		char line[256];

		fprintf(stderr, "ready\n");
		while (fgets(line, sizeof(line), stdin))
			printf("%ld\n", at_work((long)strlen(line)));
		return 0;
	}
	if (!strcmp(mode, "traceme")) {
		pid_t c = fork();

		if (c == 0) {
			ptrace(PTRACE_TRACEME, 0, 0, 0);
			/* The parent says the pid once it has seen this stop: traced by then. */
			raise(SIGSTOP);
			for (;;)
				pause();
		}
		for (int said = 0;;) {
			int st;

			/* Keep it running: pass on whatever stops it. */
			if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st))
				return 0;
			if (!said++) {
				printf("%d\n", (int)c);
				ptrace(PTRACE_CONT, c, 0, 0);
				continue;
			}
			ptrace(PTRACE_CONT, c, 0, (void *)(long)WSTOPSIG(st));
		}
	}
	fprintf(stderr,
		"usage: attach_target busy|malloc|seccomp THREADS ITERS | read | traceme\n");
	return 2;
}
