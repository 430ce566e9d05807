// SPDX-License-Identifier: MIT
/*
 * Handing the engine back (pk_engine_release, what a detaching agent calls
 * before it is unloaded): refused while anything still needs the engine's
 * code, and afterwards nothing of it is left in the process (signal
 * handlers, slot chunks, code bytes); the engine then starts again.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "probekit.h"
#include "pk_test.h"

__attribute__((noinline)) long rel_target(long x)
{
	__asm__ volatile("" : "+r"(x));
	return x + 1;
}

static int pipe_fd[2];

/* Blocks in read() until the test writes: a frame that stays inside a retprobed function. */
__attribute__((noinline)) long rel_blocking(long x)
{
	char c;

	if (read(pipe_fd[0], &c, 1) != 1)
		return -1;
	return x + c;
}

static int hits;
static int count_pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	(void)r;
	hits++;
	return 0;
}

static int rets;
static int count_ret(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	(void)ri;
	(void)r;
	rets++;
	return 0;
}

static void program_handler(int sig)
{
	(void)sig;
}

/* From the kernel: libc's sigaction() answers what the engine's guard says while it is there. */
static void *handler_of(int sig)
{
	unsigned long k[4] = {0}; /* handler, flags, restorer, mask */

	syscall(SYS_rt_sigaction, sig, NULL, k, 8);
	return (void *)k[0];
}

static uint8_t orig_code[8];

/* Planted: an int3 or, optimized, a jump; either way not the bytes it had. */
static int code_patched(void *fn)
{
	return memcmp((const void *)fn, orig_code, sizeof(orig_code)) != 0;
}

static void test_release_idle(void)
{
	CHECK_EQ(pk_engine_release(), 0);
}

static void test_release_restores_everything(void)
{
	struct pk_probe kp = {.addr = (void *)rel_target, .pre_handler = count_pre};
	uintptr_t s, e;

	signal(SIGSEGV, program_handler);
	hits = 0;
	memcpy(orig_code, (const void *)rel_target, sizeof(orig_code));
	CHECK_EQ(pk_register_probe(&kp), 0);
	CHECK(code_patched((void *)rel_target));
	/* Set while the engine owns the signal: it must come back at release. */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGSEGV, program_handler);
	CHECK_EQ(rel_target(1), 2);
	CHECK_EQ(hits, 1);
	CHECK(handler_of(SIGTRAP) != SIG_DFL);
	CHECK_EQ(pk_engine_release(), -EBUSY); /* a user probe is still there */
	CHECK_EQ(rel_target(2), 3);
	CHECK_EQ(hits, 2);
	pk_unregister_probe(&kp);
	CHECK_EQ(pk_engine_release(), 0);
	CHECK(handler_of(SIGTRAP) == SIG_DFL);
	CHECK(handler_of(SIGSEGV) == (void *)program_handler);
	CHECK(pk_slot_range(0, &s, &e) != 0); /* no slot chunk mapped */
	CHECK(!code_patched((void *)rel_target));
	/* The sigaction guard is gone: the program's calls reach the kernel again. */
	signal(SIGTRAP, program_handler);
	CHECK(handler_of(SIGTRAP) == (void *)program_handler);
	signal(SIGTRAP, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
}

static void test_engine_starts_again(void)
{
	struct pk_probe kp = {.addr = (void *)rel_target, .pre_handler = count_pre};

	hits = 0;
	CHECK_EQ(pk_register_probe(&kp), 0);
	CHECK_EQ(rel_target(5), 6);
	CHECK_EQ(hits, 1);
	CHECK(handler_of(SIGTRAP) != SIG_DFL);
	pk_unregister_probe(&kp);
	CHECK_EQ(pk_engine_release(), 0);
	CHECK(handler_of(SIGTRAP) == SIG_DFL);
}

static void *call_blocking(void *arg)
{
	(void)arg;
	return (void *)rel_blocking(10);
}

static void test_pending_return_blocks_release(void)
{
	struct pk_retprobe rp = {.kp.addr = (void *)rel_blocking, .handler = count_ret};
	pthread_t th;
	void *res;
	int i;

	CHECK_EQ(pipe(pipe_fd), 0);
	rets = 0;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	CHECK_EQ(pthread_create(&th, NULL, call_blocking, NULL), 0);
	/* Until the thread is inside, its return address swapped for the trampoline. */
	for (i = 0; i < 2000 && pk_retprobe_pending() == 0; i++)
		usleep(1000);
	CHECK_EQ(pk_retprobe_pending(), 1);
	pk_unregister_retprobe(&rp);
	CHECK_EQ(pk_engine_release(), -EBUSY);
	CHECK(handler_of(SIGTRAP) != SIG_DFL);
	CHECK_EQ(write(pipe_fd[1], "\x05", 1), 1);
	pthread_join(th, &res);
	CHECK_EQ((long)res, 15);
	CHECK_EQ(rets, 0); /* unregistered: it returned without the handler */
	CHECK_EQ(pk_retprobe_pending(), 0);
	CHECK_EQ(pk_engine_release(), 0);
	CHECK(handler_of(SIGTRAP) == SIG_DFL);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
}

int main(void)
{
	RUN(test_release_idle);
	RUN(test_release_restores_everything);
	RUN(test_engine_starts_again);
	RUN(test_pending_return_blocks_release);
	TEST_EXIT();
}
