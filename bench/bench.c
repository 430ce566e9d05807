// SPDX-License-Identifier: MIT
/*
 * The library rows of `make bench`: the cost of a hit on bench_target with
 * an unprobed call as the baseline, probekit's int3 (optimization off), its
 * jump-optimized probes (empty pre_handler, pre+post, retprobe), and the
 * kernel's uprobe and uretprobe driven by bpftrace, all in this one process
 * with the same loop and clock.
 *
 * Every figure is the median of RUNS timed runs; the probed cases are the
 * time per call less the unprobed call. The output is one line per case,
 * "row|KEY|median|min|max|runs x iters|note", which run.sh puts into the
 * one table with the tracer rows. Never fails on a figure: exits non-zero
 * only when probekit itself cannot probe the function.
 */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "probekit.h"
#include "bench.h"

#define RUNS 11
/* ~75 ms a run: long enough to swamp timer and scheduler noise, short enough for 11. */
#define PK_RUN_NS 75e6
/* A kernel uprobe hit costs microseconds; fewer calls give the same run length. */
#define UP_RUN_NS   50e6
#define CHECK_CALLS 1000

enum { C_CALL, C_INT3, C_PRE, C_POST, C_RET, C_UPROBE, C_URETPROBE, NR_CASES };

/* The keys run.sh knows the rows by. */
static const char *const case_key[NR_CASES] = {
    [C_CALL] = "call",	 [C_INT3] = "int3",	[C_PRE] = "opt_pre",	     [C_POST] = "opt_post",
    [C_RET] = "opt_ret", [C_UPROBE] = "uprobe", [C_URETPROBE] = "uretprobe",
};

struct result {
	int ok;
	double ns[BENCH_MAX_RUNS];
	double med, min, max;
	long iters;
	char why[256];	/* when !ok */
	char note[256]; /* remarks on a valid result */
};

static struct result res[NR_CASES];

static struct pk_probe kp;
static struct pk_retprobe rp;
/* Only the validation pass counts: the timed handlers are truly empty. */
static unsigned long pre_hits, post_hits, ret_hits;

static int empty_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	(void)regs;
	return 0;
}

static void empty_post(struct pk_probe *p, struct pk_regs *regs, unsigned long flags)
{
	(void)p;
	(void)regs;
	(void)flags;
}

static int empty_ret(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	(void)ri;
	(void)regs;
	return 0;
}

static int count_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	(void)regs;
	pre_hits++;
	return 0;
}

static void count_post(struct pk_probe *p, struct pk_regs *regs, unsigned long flags)
{
	(void)p;
	(void)regs;
	(void)flags;
	post_hits++;
}

static int count_ret(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	(void)ri;
	(void)regs;
	ret_hits++;
	return 0;
}

double bench_loop(long n)
{
	struct timespec a, b;
	long i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		bench_target(i, i);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
}

long bench_calibrate(double target_ns)
{
	long n;

	for (n = 1000;; n *= 2) {
		double el = bench_loop(n);

		if (el >= 10e6 || n >= 1L << 40) {
			/* The fastest of three: one preempted run would shorten every timed run. */
			double again = bench_loop(n);

			el = again < el ? again : el;
			again = bench_loop(n);
			el = again < el ? again : el;
			n = (long)(n * target_ns / el);
			return n > 0 ? n : 1;
		}
	}
}

static void summarise(struct result *r)
{
	bench_stats(r->ns, RUNS, &r->med, &r->min, &r->max);
	r->ok = 1;
}

static void add_note(struct result *r, const char *msg)
{
	size_t len = strlen(r->note);

	snprintf(r->note + len, sizeof(r->note) - len, "%s%s", len ? "; " : "", msg);
}

static unsigned char entry_byte(void)
{
	return *(volatile unsigned char *)(void *)bench_target;
}

static unsigned char orig_byte;

static unsigned long probe_flags(int c)
{
	return c == C_RET ? rp.kp.flags : kp.flags;
}

static int arm(int c, int counting)
{
	memset(&kp, 0, sizeof(kp));
	memset(&rp, 0, sizeof(rp));
	switch (c) {
	case C_INT3:
	case C_PRE:
	case C_POST:
		kp.symbol_name = BENCH_SYM;
		kp.pre_handler = counting ? count_pre : empty_pre;
		if (c == C_POST)
			kp.post_handler = counting ? count_post : empty_post;
		return pk_register_probe(&kp);
	default:
		rp.kp.symbol_name = BENCH_SYM;
		rp.handler = counting ? count_ret : empty_ret;
		return pk_register_retprobe(&rp);
	}
}

static void disarm(int c)
{
	if (c == C_RET)
		pk_unregister_retprobe(&rp);
	else
		pk_unregister_probe(&kp);
}

/* A timing is only worth printing if the handlers really ran on every call. */
static int validate(int c, struct result *r)
{
	int err = arm(c, 1);

	if (err) {
		snprintf(r->why, sizeof(r->why), "registration failed: %s", strerror(-err));
		return -1;
	}
	pre_hits = post_hits = ret_hits = 0;
	bench_loop(CHECK_CALLS);
	disarm(c);
	if ((c == C_RET && ret_hits != CHECK_CALLS) || (c != C_RET && pre_hits != CHECK_CALLS) ||
	    (c == C_POST && post_hits != CHECK_CALLS)) {
		snprintf(r->why, sizeof(r->why),
			 "handlers ran pre %lu post %lu ret %lu of %d calls", pre_hits, post_hits,
			 ret_hits, CHECK_CALLS);
		return -1;
	}
	return 0;
}

/* The probe list's "[INT3: reason]" for bench_target, so that a slow row says why. */
static void note_int3(struct result *r)
{
	char list[4096], msg[160];
	const char *why;

	pk_show_probes(list, sizeof(list));
	why = strstr(list, "[INT3: ");
	snprintf(msg, sizeof(msg), "NOT OPTIMIZED %.*s", why ? (int)strcspn(why, "\n") : 0,
		 why ? why : "");
	add_note(r, msg);
}

static void measure_probekit(int c, double base)
{
	struct result *r = &res[c];
	unsigned long missed;
	int i, err;

	/* Probes registered while optimization is off stay int3s. */
	pk_set_optimization(c != C_INT3);
	if (validate(c, r))
		return;
	err = arm(c, 0);
	if (err) {
		snprintf(r->why, sizeof(r->why), "registration failed: %s", strerror(-err));
		return;
	}
	if (c == C_INT3 && entry_byte() != 0xcc)
		add_note(r, "no int3 at " BENCH_SYM " after registration");
	if (c != C_INT3 && !(probe_flags(c) & PK_FLAG_OPTIMIZED))
		note_int3(r);
	r->iters = bench_calibrate(PK_RUN_NS);
	for (i = 0; i < RUNS; i++)
		r->ns[i] = bench_loop(r->iters) / (double)r->iters - base;
	missed = c == C_RET ? rp.nmissed + rp.kp.nmissed : kp.nmissed;
	disarm(c);
	summarise(r);
	if (missed) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%lu hits missed", missed);
		add_note(r, msg);
	}
	if (entry_byte() != orig_byte)
		add_note(r, BENCH_SYM " not restored after unregistration");
	pk_set_optimization(1);
}

static void measure_call(void)
{
	struct result *r = &res[C_CALL];
	int i;

	r->iters = bench_calibrate(PK_RUN_NS);
	for (i = 0; i < RUNS; i++)
		r->ns[i] = bench_loop(r->iters) / (double)r->iters;
	summarise(r);
}

static void measure_uprobe(int c, const char *exe)
{
	struct result *r = &res[c];

	if (!uprobe_measure(exe, c == C_URETPROBE, RUNS, UP_RUN_NS, r->ns, &r->iters, r->why,
			    sizeof(r->why), r->note, sizeof(r->note)))
		summarise(r);
}

/* Pin to one CPU: migrations in the middle of a run are the largest source of noise. */
static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu, last = -1;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			last = cpu;
	if (last < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(last, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : last;
}

static void print_rows(void)
{
	int c;

	for (c = 0; c < NR_CASES; c++) {
		const struct result *r = &res[c];

		if (!r->ok)
			printf("row|%s|-|-|-|-|n/a: %s\n", case_key[c], r->why);
		else
			printf("row|%s|%.2f|%.2f|%.2f|%d x %ld|%s\n", case_key[c], r->med, r->min,
			       r->max, RUNS, r->iters, r->note[0] ? r->note : "ok");
	}
}

int main(void)
{
	const unsigned char *e = (const unsigned char *)(void *)bench_target;
	char exe[PATH_MAX];
	ssize_t n;
	int cpu;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* bpftrace must name the file by its absolute path: /proc/self/exe gives exactly that. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	exe[n] = 0;
	orig_byte = entry_byte();
	cpu = pin_cpu();
	printf("%s: %s at %p, entry bytes %02x %02x %02x %02x, pinned to cpu %d\n", exe, BENCH_SYM,
	       (void *)e, e[0], e[1], e[2], e[3], cpu);

	/* Warm up the frequency governor and the caches before the baseline. */
	bench_loop(bench_calibrate(50e6));
	measure_call();
	/*
	 * The kernel cases go first: once probekit has written the text page
	 * through /proc/self/mem it is an anonymous copy, and we want the
	 * kernel to see the file-backed page as any uprobe user would.
	 */
	measure_uprobe(C_UPROBE, exe);
	measure_uprobe(C_URETPROBE, exe);
	measure_probekit(C_INT3, res[C_CALL].med);
	measure_probekit(C_PRE, res[C_CALL].med);
	measure_probekit(C_POST, res[C_CALL].med);
	measure_probekit(C_RET, res[C_CALL].med);
	print_rows();
	return !res[C_INT3].ok || !res[C_PRE].ok || !res[C_POST].ok || !res[C_RET].ok;
}
