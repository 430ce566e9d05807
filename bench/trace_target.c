// SPDX-License-Identifier: MIT
/*
 * The traced program of the tracer rows (trace_bench.sh): calls
 * bench_target(a, b) N times, N from argv[1], and prints how long the loop
 * took, so that a tracer's start-up, attach and exit do not count: the
 * figure is the same loop time pk_bench takes in-process. Then a checksum,
 * so that the calls cannot be elided.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

__attribute__((noipa, optimize("no-omit-frame-pointer"))) static void loop(long n)
{
	unsigned long sum = 0;
	struct timespec a, b;
	long i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		/* Both arguments fit in 32 bits, so the s32 fetches print them whole. */
		sum += (unsigned long)bench_target(i & 0x7fffffff, (n - i) & 0x7fffffff);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("loop_ns %.0f calls %ld checksum %lu\n",
	       (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec), n, sum);
}

/*
 * BT_DEPTH=D: the loop runs D frames deep, each with a frame pointer, so
 * that a user stack walk (probekit trace --stack) has that many to take.
 */
static int nest(int depth, long n);
/* Through a pointer the compiler cannot see through: the recursion stays one. */
static int (*volatile nest_p)(int, long) = nest;

__attribute__((noipa, optimize("no-omit-frame-pointer"))) static int nest(int depth, long n)
{
	if (depth <= 0) {
		loop(n);
		return 0;
	}
	return nest_p(depth - 1, n) + 1; /* not a tail call: the frame stays */
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000;
	const char *depth = getenv("BT_DEPTH");

	return nest(depth ? atoi(depth) : 0, n) < 0;
}
