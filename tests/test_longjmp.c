// SPDX-License-Identifier: MIT
/*
 * Return probes and frames that never return: longjmp() past retprobed
 * calls many more times than there are instances (maxactive). The program
 * must land where setjmp() said, later calls must still be tracked with the
 * right values, and no call may be counted missed: an instance whose frame
 * was jumped over is dead and has to come back to its pool. Recursion deeper
 * than maxactive, on the other hand, must miss exactly the calls that found
 * the pool empty.
 *
 * Each case runs in a thread of its own, so that what one case leaves on the
 * per-thread instance list cannot change the next case's outcome.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include "arch/arch.h"
#include "probekit.h"
#include "pk_test.h"

#define MAXACTIVE 4
#define ROUNDS    1000 /* many times MAXACTIVE */
#define NORMAL    100

volatile long lj_salt = 7;
static jmp_buf lj_env;

/* ---- the probed functions ---- */

__attribute__((noipa)) long lj_helper(long x, long jump)
{
	if (jump)
		longjmp(lj_env, (int)x + 1);
	return x * 5;
}

/* Never a tail call: the addition after the call keeps this frame alive. */
__attribute__((noipa)) long lj_target(long x, long jump)
{
	return lj_helper(x, jump) + lj_salt;
}

__attribute__((noipa)) long lj_outer(long x, long jump)
{
	return lj_target(x, jump) * 2 + lj_salt;
}

static long want_target(long x)
{
	return x * 5 + lj_salt;
}

static long want_outer(long x)
{
	return want_target(x) * 2 + lj_salt;
}

/* Recursion that gcc cannot turn into a loop: the volatile read follows the call. */
__attribute__((noipa)) long lj_rec(long n)
{
	long r;

	if (n <= 0)
		return 1;
	r = lj_rec(n - 1);
	return (r * 3) % 1000003 + n + lj_salt;
}

static long want_rec(long n)
{
	long r = 1, i;

	for (i = 1; i <= n; i++)
		r = (r * 3) % 1000003 + i + lj_salt;
	return r;
}

/* ---- a counting return probe ---- */

struct lrp {
	struct pk_retprobe rp;
	long (*want)(long);
	unsigned long entries, returns, wrong;
	unsigned long seen[64]; /* returns per argument, for small arguments */
};

static int lrp_entry(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct lrp *l = (struct lrp *)ri->rp;

	l->entries++;
	*(long *)ri->data = (long)pk_regs_get_argument(regs, 0);
	return 0;
}

static int lrp_ret(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct lrp *l = (struct lrp *)ri->rp;
	long x = *(long *)ri->data;

	l->returns++;
	if ((long)pk_regs_return_value(regs) != l->want(x) ||
	    arch_regs_ip(regs) != (unsigned long)ri->ret_addr)
		l->wrong++;
	if (x >= 0 && x < 64)
		l->seen[x]++;
	return 0;
}

static int lrp_register(struct lrp *l, const char *sym, long (*want)(long), int maxactive)
{
	memset(l, 0, sizeof(*l));
	l->rp.kp.symbol_name = sym;
	l->rp.entry_handler = lrp_entry;
	l->rp.handler = lrp_ret;
	l->rp.maxactive = maxactive;
	l->rp.data_size = sizeof(long);
	l->want = want;
	return pk_register_retprobe(&l->rp);
}

static void *thread_main(void *arg)
{
	(*(void (**)(void))arg)();
	return NULL;
}

static void run_in_thread(void (*fn)(void))
{
	pthread_t th;

	if (pthread_create(&th, NULL, thread_main, &fn)) {
		CHECK(0);
		return;
	}
	pthread_join(th, NULL);
}

/* After the jumps: ordinary calls are tracked, one return per call, right values. */
static void normal_calls_tracked(struct lrp *l, long (*fn)(long, long), long (*want)(long))
{
	unsigned long returns = l->returns;
	long i;

	for (i = 0; i < NORMAL; i++)
		CHECK_EQ(fn(i, 0), want(i));
	CHECK_EQ(l->returns - returns, NORMAL);
	CHECK_EQ(l->wrong, 0);
	CHECK_EQ(l->rp.nmissed, 0);
}

/* ---- cases ---- */

static void longjmp_past_one_body(void)
{
	struct lrp l;
	volatile long i, landed = 0, fell_through = 0;

	CHECK_EQ(lrp_register(&l, "lj_target", want_target, MAXACTIVE), 0);
	for (i = 0; i < ROUNDS; i++) {
		int v = setjmp(lj_env);

		if (v == 0) {
			lj_target(i, 1);
			fell_through++;
		} else {
			if (v != (int)i + 1)
				break;
			landed++;
		}
	}
	CHECK_EQ(landed, ROUNDS);
	CHECK_EQ(fell_through, 0);
	CHECK_EQ(l.entries, ROUNDS);
	CHECK_EQ(l.returns, 0);
	CHECK_EQ(l.rp.nmissed, 0);
	normal_calls_tracked(&l, lj_target, want_target);
	pk_unregister_retprobe(&l.rp);
}

static void test_longjmp_past_one(void)
{
	run_in_thread(longjmp_past_one_body);
}

/* Two retprobed frames skipped at once, each with its own pool. */
static void longjmp_past_two_body(void)
{
	struct lrp lo, li;
	volatile long i, landed = 0;

	CHECK_EQ(lrp_register(&lo, "lj_outer", want_outer, MAXACTIVE), 0);
	CHECK_EQ(lrp_register(&li, "lj_target", want_target, MAXACTIVE), 0);
	for (i = 0; i < ROUNDS; i++) {
		int v = setjmp(lj_env);

		if (v == 0)
			lj_outer(i, 1);
		else if (v == (int)i + 1)
			landed++;
		else
			break;
	}
	CHECK_EQ(landed, ROUNDS);
	CHECK_EQ(lo.entries, ROUNDS);
	CHECK_EQ(li.entries, ROUNDS);
	CHECK_EQ(lo.returns + li.returns, 0);
	CHECK_EQ(lo.rp.nmissed, 0);
	CHECK_EQ(li.rp.nmissed, 0);
	normal_calls_tracked(&lo, lj_outer, want_outer);
	/* Each lj_outer call above also made one lj_target call. */
	CHECK_EQ(li.returns, NORMAL);
	CHECK_EQ(li.wrong, 0);
	CHECK_EQ(li.rp.nmissed, 0);
	{
		struct pk_retprobe *rps[2] = {&lo.rp, &li.rp};

		pk_unregister_retprobes(rps, 2);
	}
}

static void test_longjmp_past_two(void)
{
	run_in_thread(longjmp_past_two_body);
}

/*
 * The jump lands inside a retprobed function, which then returns normally:
 * its own return must be tracked, the skipped inner frame's instance freed.
 */
__attribute__((noipa)) long lj_catcher(long x, long jump)
{
	jmp_buf saved;
	volatile long r = -1;
	int v;

	memcpy(saved, lj_env, sizeof(saved));
	v = setjmp(lj_env);
	if (v == 0)
		r = lj_target(x, jump);
	else
		r = v * 10 + lj_salt;
	memcpy(lj_env, saved, sizeof(saved));
	return r;
}

static long want_catcher_jump(long x)
{
	return (x + 1) * 10 + lj_salt;
}

static void longjmp_into_probed_body(void)
{
	struct lrp lc, lt;
	long i;

	CHECK_EQ(lrp_register(&lc, "lj_catcher", want_catcher_jump, MAXACTIVE), 0);
	CHECK_EQ(lrp_register(&lt, "lj_target", want_target, MAXACTIVE), 0);
	for (i = 0; i < ROUNDS; i++)
		CHECK_EQ(lj_catcher(i, 1), want_catcher_jump(i));
	CHECK_EQ(lc.entries, ROUNDS);
	CHECK_EQ(lc.returns, ROUNDS);
	CHECK_EQ(lc.wrong, 0);
	CHECK_EQ(lt.entries, ROUNDS);
	CHECK_EQ(lt.returns, 0);
	CHECK_EQ(lc.rp.nmissed, 0);
	CHECK_EQ(lt.rp.nmissed, 0);
	normal_calls_tracked(&lt, lj_target, want_target);
	pk_unregister_retprobe(&lc.rp);
	pk_unregister_retprobe(&lt.rp);
}

static void test_longjmp_into_probed(void)
{
	run_in_thread(longjmp_into_probed_body);
}

/*
 * Jumps from different stack depths, deepest first, then shallower: every
 * skipped instance lies below the stack pointer of the next probed entry,
 * far enough below that no signal frame overwrites its slot.
 */
#define FRAME_BYTES 8192
#define MAX_DEPTH   4

__attribute__((noipa)) long lj_descend(long depth, long x)
{
	volatile char pad[FRAME_BYTES];

	pad[0] = (char)depth;
	if (depth > 0)
		return lj_descend(depth - 1, x) + pad[0] - depth;
	return lj_target(x, 1) + pad[0];
}

static void longjmp_depths_body(void)
{
	struct lrp l;
	volatile long i, landed = 0;

	CHECK_EQ(lrp_register(&l, "lj_target", want_target, MAXACTIVE), 0);
	for (i = 0; i < ROUNDS / 10; i++) {
		int v = setjmp(lj_env);

		if (v == 0)
			lj_descend(MAX_DEPTH - i % (MAX_DEPTH + 1), i);
		else if (v == (int)i + 1)
			landed++;
		else
			break;
	}
	CHECK_EQ(landed, ROUNDS / 10);
	CHECK_EQ(l.entries, ROUNDS / 10);
	CHECK_EQ(l.rp.nmissed, 0);
	normal_calls_tracked(&l, lj_target, want_target);
	pk_unregister_retprobe(&l.rp);
}

static void test_longjmp_depths(void)
{
	run_in_thread(longjmp_depths_body);
}

/*
 * Deeper than maxactive: the outermost maxactive calls get an instance, each
 * deeper one is missed, and every call still returns its value.
 */
#define REC_DEPTH     20
#define REC_MAXACTIVE 5
#define REC_CALLS     3

static void recursion_body(void)
{
	struct lrp l;
	long n;
	int k;

	CHECK_EQ(lrp_register(&l, "lj_rec", want_rec, REC_MAXACTIVE), 0);
	for (k = 1; k <= REC_CALLS; k++) {
		CHECK_EQ(lj_rec(REC_DEPTH), want_rec(REC_DEPTH));
		CHECK_EQ(l.rp.nmissed, (unsigned long)k * (REC_DEPTH + 1 - REC_MAXACTIVE));
		CHECK_EQ(l.entries, (unsigned long)k * REC_MAXACTIVE);
		CHECK_EQ(l.returns, (unsigned long)k * REC_MAXACTIVE);
	}
	CHECK_EQ(l.wrong, 0);
	for (n = 0; n <= REC_DEPTH; n++)
		CHECK_EQ(l.seen[n], n > REC_DEPTH - REC_MAXACTIVE ? REC_CALLS : 0);
	/* Within maxactive nothing is missed. */
	CHECK_EQ(lj_rec(REC_MAXACTIVE - 1), want_rec(REC_MAXACTIVE - 1));
	CHECK_EQ(l.rp.nmissed, (unsigned long)REC_CALLS * (REC_DEPTH + 1 - REC_MAXACTIVE));
	CHECK_EQ(l.returns, (unsigned long)REC_CALLS * REC_MAXACTIVE + REC_MAXACTIVE);
	CHECK_EQ(l.wrong, 0);
	pk_unregister_retprobe(&l.rp);
}

static void test_recursion_nmissed(void)
{
	run_in_thread(recursion_body);
}

int main(void)
{
	RUN(test_longjmp_past_one);
	RUN(test_longjmp_past_two);
	RUN(test_longjmp_into_probed);
	RUN(test_longjmp_depths);
	RUN(test_recursion_nmissed);
	TEST_EXIT();
}
