// SPDX-License-Identifier: MIT
/*
 * Faults in a displaced instruction reach the program as if the code were
 * not probed (same ip in the ucontext, same si_addr and si_code), after the
 * probe's fault_handler was asked; and probes keep working in a forked
 * child.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <sys/syscall.h>
#include <unistd.h>

#include "probekit.h"
#include "pk_test.h"

long t_load(const long *p);
long t_div(long a, long b);
long t_helper3(long);
extern char t_load_at[], t_div_at[];

struct fault_seen {
	int sig, code;
	long ip;
	void *addr;
};

static sigjmp_buf env;
static volatile struct fault_seen seen;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	seen.sig = sig;
	seen.code = si->si_code;
	seen.addr = si->si_addr;
	seen.ip = uc->uc_mcontext.gregs[REG_RIP];
	siglongjmp(env, 1);
}

static void install(int sig, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigaction(sig, &sa, old);
}

/* Run @fn and record the fault it raises (none: sig stays 0). */
static struct fault_seen provoke(void (*fn)(void))
{
	struct fault_seen r;

	memset((void *)&seen, 0, sizeof(seen));
	if (!sigsetjmp(env, 1))
		fn();
	memcpy(&r, (const void *)&seen, sizeof(r));
	return r;
}

static void do_segv(void)
{
	t_load((const long *)0x18);
}

static void do_fpe(void)
{
	t_div(7, 0);
}

static char *bus_map;

static void do_bus(void)
{
	t_load((const long *)(bus_map + 8192));
}

static int fault_calls, fault_signo;

static int count_fault(struct pk_probe *p, struct pk_regs *r, int signo)
{
	(void)p;
	(void)r;
	fault_calls++;
	fault_signo = signo;
	return 0;
}

static int pre_hits, post_hits;

static int pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	(void)r;
	pre_hits++;
	return 0;
}

static void post(struct pk_probe *p, struct pk_regs *r, unsigned long f)
{
	(void)p;
	(void)r;
	(void)f;
	post_hits++;
}

static void same_fault(const char *what, void (*fn)(void), void *at, int sig, int with_post)
{
	struct pk_probe p = {.addr = at, .pre_handler = pre, .fault_handler = count_fault};
	struct fault_seen plain, probed;
	struct sigaction old;

	if (with_post)
		p.post_handler = post;
	install(sig, &old);
	plain = provoke(fn);
	CHECK_EQ(plain.sig, sig);
	CHECK_EQ(plain.ip, (long)at);
	CHECK_EQ(pk_register_probe(&p), 0);
	fault_calls = pre_hits = post_hits = 0;
	probed = provoke(fn);
	pk_unregister_probe(&p);
	sigaction(sig, &old, NULL);
	if (probed.ip != plain.ip || probed.addr != plain.addr)
		printf("  %s: probed ip %lx addr %p, plain ip %lx addr %p\n", what, probed.ip,
		       probed.addr, plain.ip, plain.addr);
	CHECK_EQ(probed.sig, plain.sig);
	CHECK_EQ(probed.code, plain.code);
	CHECK_EQ(probed.ip, plain.ip);
	CHECK(probed.addr == plain.addr);
	CHECK_EQ(pre_hits, 1);
	CHECK_EQ(post_hits, 0);
	CHECK_EQ(fault_calls, 1);
	CHECK_EQ(fault_signo, sig);
}

static void test_segv_as_unprobed(void)
{
	same_fault("segv", do_segv, t_load_at, SIGSEGV, 0);
	same_fault("segv post", do_segv, t_load_at, SIGSEGV, 1);
}

static void test_fpe_as_unprobed(void)
{
	same_fault("fpe", do_fpe, t_div_at, SIGFPE, 0);
}

static void test_bus_as_unprobed(void)
{
	char path[] = "/tmp/pk_bus_XXXXXX";
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(ftruncate(fd, 4096), 0);
	/* Two pages mapped over a one-page file: the second one raises SIGBUS. */
	bus_map = mmap(NULL, 16384, PROT_READ, MAP_SHARED, fd, 0);
	unlink(path);
	close(fd);
	same_fault("bus", do_bus, t_load_at, SIGBUS, 0);
	munmap(bus_map, 16384);
}

static int fixup_fault(struct pk_probe *p, struct pk_regs *r, int signo)
{
	(void)p;
	(void)signo;
	/* Like an exception-table fixup: skip the load and return -1. */
	r->ax = (unsigned long)-1;
	r->ip = (uintptr_t)t_load_at + 3;
	return 1;
}

static void test_fault_handler_fixup(void)
{
	struct pk_probe p = {.addr = t_load_at, .pre_handler = pre, .fault_handler = fixup_fault};
	struct fault_seen r;
	struct sigaction old;

	install(SIGSEGV, &old);
	CHECK_EQ(pk_register_probe(&p), 0);
	r = provoke(do_segv);
	CHECK_EQ(r.sig, 0);
	CHECK_EQ(t_load((const long *)0x18), -1);
	long v = 99;
	CHECK_EQ(t_load(&v), 99);
	pk_unregister_probe(&p);
	sigaction(SIGSEGV, &old, NULL);
}

static void test_default_action_kills(void)
{
	/* With no handler of its own the program dies of the same signal as unprobed. */
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		struct pk_probe p = {.addr = t_load_at, .pre_handler = pre};
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(SIGSEGV, &dfl, NULL);
		if (pk_register_probe(&p))
			_exit(3);
		t_load((const long *)0x18);
		_exit(4);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGSEGV);
}

/*
 * @raw: fork with the system call, past pthread_atfork, as a program (or a
 * runtime such as Go's) may: the engine must still notice that it is in a
 * new process before it writes code.
 */
static void fork_child_probes(int raw)
{
	struct pk_probe p = {.addr = (void *)t_helper3, .pre_handler = pre};
	unsigned char before[16];
	int status = 0;
	pid_t pid;

	CHECK_EQ(pk_register_probe(&p), 0);
	pre_hits = 0;
	t_helper3(1);
	CHECK_EQ(pre_hits, 1);
	pid = raw ? (pid_t)syscall(SYS_fork) : fork();
	if (pid == 0) {
		struct pk_probe q = {.addr = (void *)t_div, .pre_handler = pre};
		int ok = 1;

		pre_hits = 0;
		ok &= t_helper3(2) == 6;
		ok &= pre_hits == 1;
		/* Registering in the child patches the child only. */
		ok &= pk_register_probe(&q) == 0;
		ok &= t_div(9, 3) == 3;
		ok &= pre_hits == 2;
		pk_unregister_probe(&q);
		pk_unregister_probe(&p);
		ok &= t_helper3(2) == 6;
		ok &= pre_hits == 2;
		_exit(ok ? 0 : 1);
	}
	memcpy(before, (const void *)t_div, sizeof(before));
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(memcmp(before, (const void *)t_div, sizeof(before)) == 0);
	pre_hits = 0;
	t_helper3(1);
	CHECK_EQ(pre_hits, 1);
	pk_unregister_probe(&p);
}

static void test_fork_child_probes(void)
{
	fork_child_probes(0);
}

static void test_raw_fork_child_probes(void)
{
	fork_child_probes(1);
}

static void test_read_nofault(void)
{
	struct sigaction old;
	char buf[64], *page;
	long v = 0x1122334455667788L, got = 0;
	struct pk_probe p = {.addr = (void *)t_helper3, .pre_handler = pre};

	/* The program's own handler must never see these faults. */
	install(SIGSEGV, &old);
	memset((void *)&seen, 0, sizeof(seen));
	CHECK_EQ(pk_register_probe(&p), 0); /* the engine's fault handler is in place */
	CHECK_EQ(pk_read_nofault(&got, &v, sizeof(v)), 0);
	CHECK_EQ(got, v);
	CHECK_EQ(pk_read_nofault(buf, NULL, 8), -EFAULT);
	CHECK_EQ(pk_read_nofault(buf, (void *)0x10, 1), -EFAULT);
	page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(page, 'x', 8192);
	munmap(page + 4096, 4096);
	CHECK_EQ(pk_read_nofault(buf, page + 4096 - 8, 8), 0);
	CHECK_EQ(pk_read_nofault(buf, page + 4096 - 8, 9), -EFAULT); /* straddles the hole */
	munmap(page, 4096);
	CHECK_EQ(seen.sig, 0);
	pk_unregister_probe(&p);
	sigaction(SIGSEGV, &old, NULL);
}

int main(void)
{
	RUN(test_segv_as_unprobed);
	RUN(test_fpe_as_unprobed);
	RUN(test_bus_as_unprobed);
	RUN(test_fault_handler_fixup);
	RUN(test_read_nofault);
	RUN(test_default_action_kills);
	RUN(test_fork_child_probes);
	RUN(test_raw_fork_child_probes);
	TEST_EXIT();
}
