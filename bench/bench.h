/* SPDX-License-Identifier: MIT */
/*
 * Shared between the library rows' driver (bench.c), the kernel uprobe
 * runner (uprobe.c), the probed function (target.c), the traced program
 * (trace_target.c), the scale rows (scale.c) and their statistics (stats.c).
 */
#ifndef PK_BENCH_H
#define PK_BENCH_H

#include <stddef.h>

#define BENCH_SYM      "bench_target"
#define BENCH_MAX_RUNS 64

long bench_target(long a, long b);

/* Time @n calls of bench_target(), in ns. */
double bench_loop(long n);

/* The number of calls that take about @target_ns. */
long bench_calibrate(double target_ns);

/* The median of @n values (n <= BENCH_MAX_RUNS) of @v (left as it is). */
double bench_median(const double *v, int n);
/* Median, least and greatest of @v. */
void bench_stats(const double *v, int n, double *med, double *min, double *max);

/*
 * Attach bpftrace to bench_target in @exe (an absolute path) as a uprobe, or
 * a uretprobe if @ret, and fill @ns with @runs per-hit costs (time of @iters
 * probed calls less the median time of as many unprobed ones, over @iters).
 * Returns 0, or -1 with the reason in @why. @note receives remarks about a
 * run that succeeded (hit count mismatch, stale uprobe removed), or "".
 */
int uprobe_measure(const char *exe, int ret, int runs, double run_ns, double *ns, long *iters,
		   char *why, size_t whylen, char *note, size_t notelen);

#endif /* PK_BENCH_H */
