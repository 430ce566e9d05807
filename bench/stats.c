// SPDX-License-Identifier: MIT
/* The statistics of the C parts of the benchmark: medians over repeated runs. */
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_stats(const double *v, int n, double *med, double *min, double *max)
{
	double s[BENCH_MAX_RUNS];

	memcpy(s, v, sizeof(*v) * (size_t)n);
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	*med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	*min = s[0];
	*max = s[n - 1];
}

double bench_median(const double *v, int n)
{
	double med, min, max;

	bench_stats(v, n, &med, &min, &max);
	return med;
}
