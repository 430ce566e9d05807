// SPDX-License-Identifier: MIT
/* Return probes: values, per-instance data, maxactive, entry_handler veto, unregister in flight. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "arch/arch.h"
#include "probekit.h"
#include "pk_test.h"

__attribute__((noipa)) long square_plus(long a, long b)
{
	return a * a + b;
}

static volatile long last_ret, last_arg;
static volatile int ret_hits, entry_hits;
static volatile uintptr_t last_ret_addr, last_ip;

struct entry_data {
	long a, b;
	uint64_t stamp;
};

static int entry(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	struct entry_data *d = (struct entry_data *)ri->data;

	entry_hits++;
	d->a = (long)pk_regs_get_argument(r, 0);
	d->b = (long)pk_regs_get_argument(r, 1);
	d->stamp = 0x5eed;
	return 0;
}

static int ret(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	struct entry_data *d = (struct entry_data *)ri->data;

	ret_hits++;
	last_ret = (long)pk_regs_return_value(r);
	last_arg = d->stamp == 0x5eed ? d->a * d->a + d->b : -1;
	last_ret_addr = (uintptr_t)ri->ret_addr;
	last_ip = arch_regs_ip(r);
	return 0;
}

static void test_return_value_and_data(void)
{
	struct pk_retprobe rp = {.kp.symbol_name = "square_plus",
				 .handler = ret,
				 .entry_handler = entry,
				 .data_size = sizeof(struct entry_data)};
	long i;

	ret_hits = entry_hits = 0;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	for (i = 0; i < 50; i++) {
		CHECK_EQ(square_plus(i, 3), i * i + 3);
		CHECK_EQ(last_ret, i * i + 3);
		CHECK_EQ(last_arg, i * i + 3);
	}
	CHECK_EQ(ret_hits, 50);
	CHECK_EQ(entry_hits, 50);
	CHECK(last_ret_addr == last_ip);
	CHECK(last_ret_addr > (uintptr_t)(void *)test_return_value_and_data &&
	      last_ret_addr < (uintptr_t)(void *)test_return_value_and_data + 4096);
	CHECK_EQ(rp.nmissed, 0);
	pk_unregister_retprobe(&rp);
	square_plus(1, 1);
	CHECK_EQ(ret_hits, 50);
}

static int veto_odd(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	(void)ri;
	return (long)pk_regs_get_argument(r, 0) & 1;
}

static void test_entry_handler_veto(void)
{
	struct pk_retprobe rp = {
	    .kp.symbol_name = "square_plus", .handler = ret, .entry_handler = veto_odd};
	long i;

	ret_hits = 0;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	for (i = 0; i < 10; i++)
		CHECK_EQ(square_plus(i, 0), i * i);
	CHECK_EQ(ret_hits, 5);
	pk_unregister_retprobe(&rp);
}

static sem_t entered, release_them;

__attribute__((noipa)) long blocking(long v)
{
	sem_post(&entered);
	sem_wait(&release_them);
	return v + 1;
}

static void *call_blocking(void *arg)
{
	return (void *)(uintptr_t)blocking((long)(uintptr_t)arg);
}

static void test_maxactive_nmissed(void)
{
	struct pk_retprobe rp = {.kp.symbol_name = "blocking", .handler = ret, .maxactive = 2};
	pthread_t th[5];
	int i;

	sem_init(&entered, 0, 0);
	sem_init(&release_them, 0, 0);
	ret_hits = 0;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	for (i = 0; i < 5; i++)
		pthread_create(&th[i], NULL, call_blocking, (void *)(uintptr_t)(i * 10));
	for (i = 0; i < 5; i++)
		sem_wait(&entered);
	/* All five are inside at once; only two instances exist. */
	CHECK_EQ(rp.nmissed, 3);
	for (i = 0; i < 5; i++)
		sem_post(&release_them);
	for (i = 0; i < 5; i++) {
		void *r;

		pthread_join(th[i], &r);
		CHECK_EQ((long)(uintptr_t)r, i * 10 + 1);
	}
	CHECK_EQ(ret_hits, 2);
	pk_unregister_retprobe(&rp);
}

static void test_unregister_in_flight(void)
{
	struct pk_retprobe rp = {.kp.symbol_name = "blocking", .handler = ret};
	pthread_t th;
	void *r;

	sem_init(&entered, 0, 0);
	sem_init(&release_them, 0, 0);
	ret_hits = 0;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	pthread_create(&th, NULL, call_blocking, (void *)(uintptr_t)41);
	sem_wait(&entered);
	/* The call holds a hijacked return address; it must still come home. */
	pk_unregister_retprobe(&rp);
	memset(&rp, 0xa5, sizeof(rp));
	sem_post(&release_them);
	pthread_join(th, &r);
	CHECK_EQ((long)(uintptr_t)r, 42);
	CHECK_EQ(ret_hits, 0);
}

static int kp_hits;

static int kp_pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	(void)r;
	kp_hits++;
	return 0;
}

static void test_with_kprobe_same_address(void)
{
	struct pk_retprobe rp = {.kp.symbol_name = "square_plus", .handler = ret};
	struct pk_probe kp = {.symbol_name = "square_plus", .pre_handler = kp_pre};

	ret_hits = kp_hits = 0;
	CHECK_EQ(pk_register_probe(&kp), 0);
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	CHECK_EQ(square_plus(3, 4), 13);
	CHECK_EQ(ret_hits, 1);
	CHECK_EQ(kp_hits, 1);
	CHECK_EQ(pk_disable_retprobe(&rp), 0);
	CHECK_EQ(square_plus(3, 4), 13);
	CHECK_EQ(ret_hits, 1);
	CHECK_EQ(kp_hits, 2);
	CHECK_EQ(pk_enable_retprobe(&rp), 0);
	pk_unregister_probe(&kp);
	CHECK_EQ(square_plus(3, 4), 13);
	CHECK_EQ(ret_hits, 2);
	CHECK_EQ(kp_hits, 2);
	pk_unregister_retprobe(&rp);
}

static void test_batch(void)
{
	struct pk_retprobe a = {.kp.symbol_name = "square_plus", .handler = ret};
	struct pk_retprobe b = {.kp.symbol_name = "no_such_fn_zz", .handler = ret};
	struct pk_retprobe *rps[2] = {&a, &b};

	CHECK_EQ(pk_register_retprobes(rps, 2), -ENOENT);
	ret_hits = 0;
	square_plus(1, 2);
	CHECK_EQ(ret_hits, 0);
	CHECK_EQ(pk_register_retprobes(rps, 1), 0);
	square_plus(1, 2);
	CHECK_EQ(ret_hits, 1);
	pk_unregister_retprobes(rps, 1);
}

static ucontext_t co_main, co_a, co_b;

__attribute__((noipa)) long co_leaf(long v)
{
	return v + 1;
}

/* Called on coroutine A: its frame stays live on A's stack while B runs. */
__attribute__((noipa)) long co_suspending(long v)
{
	swapcontext(&co_a, &co_b);
	return v * 2;
}

static volatile long co_result_a, co_result_b;

static void co_a_main(void)
{
	co_result_a = co_suspending(20);
}

static void co_b_main(void)
{
	/* On B, whose stack lies above A's: A's live instance looks stale from here. */
	co_result_b = co_leaf(1);
	swapcontext(&co_b, &co_a);
}

static void test_coroutine_stacks(void)
{
	struct pk_retprobe ra = {.kp.symbol_name = "co_suspending", .handler = ret};
	struct pk_retprobe rb = {.kp.symbol_name = "co_leaf", .handler = ret};
	static char stacks[2][65536] __attribute__((aligned(16)));

	CHECK_EQ(pk_register_retprobe(&ra), 0);
	CHECK_EQ(pk_register_retprobe(&rb), 0);
	getcontext(&co_a);
	co_a.uc_stack.ss_sp = stacks[0];
	co_a.uc_stack.ss_size = sizeof(stacks[0]);
	co_a.uc_link = &co_main;
	makecontext(&co_a, co_a_main, 0);
	getcontext(&co_b);
	co_b.uc_stack.ss_sp = stacks[1];
	co_b.uc_stack.ss_size = sizeof(stacks[1]);
	co_b.uc_link = &co_main;
	makecontext(&co_b, co_b_main, 0);
	ret_hits = 0;
	swapcontext(&co_main, &co_a);
	/* The return through the reclaimed instance still lands where it should. */
	CHECK_EQ(co_result_a, 40);
	CHECK_EQ(co_result_b, 2);
	CHECK(ret_hits >= 1);
	pk_unregister_retprobe(&ra);
	pk_unregister_retprobe(&rb);
}

int main(void)
{
	RUN(test_return_value_and_data);
	RUN(test_entry_handler_veto);
	RUN(test_maxactive_nmissed);
	RUN(test_unregister_in_flight);
	RUN(test_with_kprobe_same_address);
	RUN(test_batch);
	RUN(test_coroutine_stacks);
	TEST_EXIT();
}
