// SPDX-License-Identifier: MIT
/*
 * Jump-optimized probes: the controls, the two single-instruction tactics,
 * patching while threads are parked on the rewritten instruction (in a
 * signal handler that spins, and in a nested signal frame), and a stress
 * test flipping sites between int3 and jump while threads run through them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal.h"
#include "probekit.h"
#include "pk_test.h"

long park_pun(long pid, long tid, long sig, long x);
long park_t1(long pid, long tid, long sig, long x);
long park_ev(long pid, long tid, long sig, long x);
extern char park_pun_at[], park_t1_at[], park_ev_at[], park_ev_next[];

static unsigned long hits_pre, hits_post;

#if defined(__SANITIZE_THREAD__)
static const int under_tsan = 1;
#else
static const int under_tsan = 0;
#endif

static int count_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	(void)regs;
	__atomic_fetch_add(&hits_pre, 1, __ATOMIC_RELAXED);
	return 0;
}

static void count_post(struct pk_probe *p, struct pk_regs *regs, unsigned long flags)
{
	(void)p;
	(void)regs;
	(void)flags;
	__atomic_fetch_add(&hits_post, 1, __ATOMIC_RELAXED);
}

static long no_park(long (*fn)(long, long, long, long), long x)
{
	/* Signal 0: tgkill only checks, nothing is delivered. */
	return fn(getpid(), syscall(SYS_gettid), 0, x);
}

static void test_both_tactics(void)
{
	struct pk_probe a = {
	    .addr = park_pun_at, .pre_handler = count_pre, .post_handler = count_post};
	struct pk_probe b = {
	    .addr = park_t1_at, .pre_handler = count_pre, .post_handler = count_post};
	char buf[2048];

	hits_pre = hits_post = 0;
	CHECK_EQ(pk_register_probe(&a), 0);
	CHECK_EQ(pk_register_probe(&b), 0);
	CHECK(a.flags & PK_FLAG_OPTIMIZED);
	CHECK(b.flags & PK_FLAG_OPTIMIZED);
	/* A pun's jump: e9 and three bytes of rel32 over the lea, the fourth is the add's 48. */
	CHECK_EQ((unsigned char)park_pun_at[0], 0xe9);
	CHECK_EQ((unsigned char)park_pun_at[4], 0x48);
	CHECK_EQ((unsigned char)park_t1_at[0], 0xe9);
	CHECK_EQ(no_park(park_pun, 5), 16);
	CHECK_EQ(no_park(park_t1, 7), 22);
	CHECK_EQ(hits_pre, 2);
	CHECK_EQ(hits_post, 2);
	pk_show_probes(buf, sizeof(buf));
	CHECK(strstr(buf, "park_pun_at+0x0  [OPTIMIZED]") ||
	      strstr(buf, "park_pun+0xb  [OPTIMIZED]"));

	/* Off: back to int3, with the reason listed; on again: jumps again. */
	CHECK_EQ(pk_set_optimization(0), 1);
	CHECK(!(a.flags & PK_FLAG_OPTIMIZED));
	CHECK_EQ((unsigned char)park_pun_at[0], 0xcc);
	pk_show_probes(buf, sizeof(buf));
	CHECK(strstr(buf, "[INT3: optimization is off]") != NULL);
	CHECK_EQ(no_park(park_pun, 5), 16);
	CHECK_EQ(hits_pre, 3);
	CHECK_EQ(pk_set_optimization(1), 0);
	CHECK(a.flags & PK_FLAG_OPTIMIZED);
	CHECK_EQ(no_park(park_pun, 5), 16);
	CHECK_EQ(hits_pre, 4);

	/* A probe on the successor takes the bytes the pun reads: the pun goes back to int3. */
	{
		struct pk_probe c = {.addr = park_pun_at + 4, .pre_handler = count_pre};
		const char *why = NULL;

		CHECK_EQ(pk_register_probe(&c), 0);
		CHECK(!(a.flags & PK_FLAG_OPTIMIZED));
		CHECK_EQ(no_park(park_pun, 5), 16);
		CHECK_EQ(hits_pre, 6);
		CHECK(pk_opt_check((uintptr_t)park_pun_at, &why) != 0 && why);
		pk_unregister_probe(&c);
	}
	pk_unregister_probe(&a);
	pk_unregister_probe(&b);
	CHECK_EQ((unsigned char)park_pun_at[0], 0x48);
	CHECK_EQ(no_park(park_pun, 5), 16);
}

/* PK_OPTIMIZE=0 in the environment: probes stay int3 from the start. */
static void test_env_off(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	pid_t pid;
	int st;

	CHECK(n > 0);
	exe[n > 0 ? n : 0] = 0;
	pid = fork();
	if (pid == 0) {
		setenv("PK_OPTIMIZE", "0", 1);
		execl(exe, exe, "--env-child", (char *)NULL);
		_exit(127);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int env_child(void)
{
	struct pk_probe a = {.addr = park_t1_at, .pre_handler = count_pre};
	int bad;

	if (pk_register_probe(&a))
		return 2;
	bad = (a.flags & PK_FLAG_OPTIMIZED) || (unsigned char)park_t1_at[0] != 0xcc ||
	      no_park(park_t1, 1) != 4 || hits_pre != 1 || pk_set_optimization(1) != 0 ||
	      !(a.flags & PK_FLAG_OPTIMIZED);
	pk_unregister_probe(&a);
	return bad;
}

/* A parked thread: stopped by its own signal exactly at the probed instruction. */
static volatile int parked, release_park, nested;
static volatile unsigned long parked_ip;

static void spin_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)si;
	if (sig == SIGUSR1) {
		parked_ip = (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
		/* Nested: a second frame on top, which spins while this one waits to return. */
		if (nested) {
			raise(SIGUSR2);
			return;
		}
	}
	__atomic_store_n(&parked, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&release_park, __ATOMIC_ACQUIRE))
		sched_yield();
}

struct park_arg {
	long (*fn)(long, long, long, long);
	long x, result;
};

static void *park_thread(void *argv)
{
	struct park_arg *a = argv;

	a->result = a->fn(getpid(), syscall(SYS_gettid), SIGUSR1, a->x);
	return NULL;
}

/* Start a thread that parks itself in spin_handler (nested: in a second frame on top). */
static void park_start(pthread_t *th, struct park_arg *a, int nest)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = spin_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	parked = release_park = 0;
	nested = nest;
	parked_ip = 0;
	pthread_create(th, NULL, park_thread, a);
	while (!__atomic_load_n(&parked, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void park_case(long (*fn)(long, long, long, long), char *at, int nest)
{
	struct pk_probe p = {.addr = at, .pre_handler = count_pre, .post_handler = count_post};
	struct park_arg a = {.fn = fn, .x = 11};
	pthread_t th;
	int i;

	hits_pre = hits_post = 0;
	CHECK_EQ(pk_register_probe(&p), 0);
	CHECK(p.flags & PK_FLAG_OPTIMIZED);
	park_start(&th, &a, nest);
	CHECK_EQ(parked_ip, (unsigned long)at);
	/* Every kind of rewrite of those bytes while the thread sits on them. */
	for (i = 0; i < 20; i++) {
		pk_set_optimization(i % 2);
		if (i % 5 == 4) {
			pk_unregister_probe(&p);
			CHECK_EQ(pk_register_probe(&p), 0);
		}
	}
	pk_set_optimization(1);
	CHECK(p.flags & PK_FLAG_OPTIMIZED);
	__atomic_store_n(&release_park, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK_EQ(a.result, 34);
	CHECK_EQ(hits_pre, 1);
	CHECK_EQ(hits_post, 1);
	pk_unregister_probe(&p);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

static void test_parked_pun(void)
{
	park_case(park_pun, park_pun_at, 0);
}

static void test_parked_pun_nested(void)
{
	park_case(park_pun, park_pun_at, 1);
}

static void test_parked_t1(void)
{
	park_case(park_t1, park_t1_at, 0);
}

static void test_parked_t1_nested(void)
{
	park_case(park_t1, park_t1_at, 1);
}

/*
 * Eviction, with a thread parked on the evicted instruction: it sent itself
 * the signal from the probed system call just before, which it had run
 * unprobed. The successor's bytes change under it, every way, repeatedly.
 */
static void test_parked_evicted(void)
{
	struct pk_probe p = {.addr = park_ev_at, .pre_handler = count_pre};
	struct park_arg a = {.fn = park_ev, .x = 11};
	const uint8_t orig = (uint8_t)park_ev_next[0];
	pthread_t th;
	int i;

	hits_pre = 0;
	park_start(&th, &a, 0);
	CHECK_EQ(parked_ip, (unsigned long)park_ev_next);
	CHECK_EQ(pk_register_probe(&p), 0);
	CHECK(p.flags & PK_FLAG_OPTIMIZED);
	/* The successor became a jump of its own. */
	CHECK_EQ((uint8_t)park_ev_next[0], 0xe9);
	for (i = 0; i < 20; i++) {
		pk_set_optimization(i % 2);
		CHECK_EQ((uint8_t)park_ev_next[0], i % 2 ? 0xe9 : orig);
		if (i % 5 == 4) {
			pk_unregister_probe(&p);
			CHECK_EQ(pk_register_probe(&p), 0);
		}
	}
	pk_set_optimization(1);
	__atomic_store_n(&release_park, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK_EQ(a.result, 34);
	CHECK_EQ(hits_pre, 0);
	/* Unparked, through both jumps. */
	CHECK_EQ(no_park(park_ev, 5), 16);
	CHECK_EQ(hits_pre, 1);
	/* A probe on the evicted instruction takes it back. */
	{
		struct pk_probe q = {.addr = park_ev_next, .pre_handler = count_pre};

		CHECK_EQ(pk_register_probe(&q), 0);
		CHECK(!(p.flags & PK_FLAG_OPTIMIZED));
		CHECK_EQ(no_park(park_ev, 5), 16);
		CHECK_EQ(hits_pre, 3);
		pk_unregister_probe(&q);
	}
	pk_unregister_probe(&p);
	CHECK_EQ((uint8_t)park_ev_next[0], orig);
	CHECK_EQ(no_park(park_ev, 5), 16);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* Threads run through both sites while the main thread flips them, 10,000 times. */
#define FLIPS	10000
#define WORKERS 4
static volatile int stop_workers;
static unsigned long worker_calls[WORKERS], worker_wrong;

static void *flip_worker(void *arg)
{
	long i = (long)arg, x;

	for (x = 0; !__atomic_load_n(&stop_workers, __ATOMIC_ACQUIRE); x++) {
		if (no_park(park_pun, x) != 3 * x + 1 || no_park(park_t1, x) != 3 * x + 1)
			__atomic_fetch_add(&worker_wrong, 1, __ATOMIC_RELAXED);
		worker_calls[i] += 2;
	}
	return NULL;
}

static void test_flip_stress(void)
{
	struct pk_probe a = {
	    .addr = park_pun_at, .pre_handler = count_pre, .post_handler = count_post};
	struct pk_probe b = {.addr = park_t1_at, .pre_handler = count_pre};
	pthread_t th[WORKERS];
	unsigned long calls = 0;
	long i;

	hits_pre = hits_post = 0;
	CHECK_EQ(pk_register_probe(&a), 0);
	CHECK_EQ(pk_register_probe(&b), 0);
	for (i = 0; i < WORKERS; i++)
		pthread_create(&th[i], NULL, flip_worker, (void *)i);
	for (i = 0; i < FLIPS; i++)
		pk_set_optimization(i % 2);
	pk_set_optimization(1);
	__atomic_store_n(&stop_workers, 1, __ATOMIC_RELEASE);
	for (i = 0; i < WORKERS; i++) {
		pthread_join(th[i], NULL);
		calls += worker_calls[i];
	}
	printf("  %d flips, %lu calls through the sites\n", FLIPS, calls);
	CHECK_EQ(worker_wrong, 0);
	/* Every call ran its handlers exactly once, through whichever form the site had. */
	CHECK_EQ(hits_pre, calls);
	CHECK_EQ(hits_post, calls / 2);
	CHECK(a.flags & PK_FLAG_OPTIMIZED);
	pk_unregister_probe(&a);
	pk_unregister_probe(&b);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--env-child"))
		return env_child();
	if (getenv("PK_OPTIMIZE") && !strcmp(getenv("PK_OPTIMIZE"), "0")) {
		printf("SKIP jump optimization is off in the environment\n");
		return 0;
	}
	RUN(test_both_tactics);
	RUN(test_env_off);
	if (under_tsan) {
		/* TSan defers signals to its own safe points: no thread parks on an instruction. */
		printf("SKIP parked-thread cases under ThreadSanitizer\n");
	} else {
		RUN(test_parked_pun);
		RUN(test_parked_pun_nested);
		RUN(test_parked_t1);
		RUN(test_parked_t1_nested);
		RUN(test_parked_evicted);
	}
	RUN(test_flip_stress);
	TEST_EXIT();
}
