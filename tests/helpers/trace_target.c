// SPDX-License-Identifier: MIT
/*
 * A program for the tracer's tests: functions with arguments of every kind
 * the fetch language reads, called a known number of times. Its output is
 * deterministic so that a traced run can be compared with an untraced one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct point {
	int x, y;
	const char *label;
};

long tt_counter = 42;

__attribute__((noipa)) int tt_add(int a, int b, int c)
{
	return a + b * c;
}

__attribute__((noipa)) size_t tt_name(const char *name, const struct point *p)
{
	return strlen(name) + (p ? (size_t)p->x : 0);
}

__attribute__((noipa)) long tt_many(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + b + c + d + e + f + g + h;
}

__attribute__((noipa)) int tt_loop(int i)
{
	return i * 3;
}

int main(int argc, char **argv)
{
	struct point pt = {3, -4, "origin"};
	long n = argc > 1 ? atol(argv[1]) : 0, i, sum = 0;

	printf("add %d\n", tt_add(1, 2, 3));
	printf("add %d\n", tt_add(-5, 6, 7));
	printf("name %zu\n", tt_name("probekit", &pt));
	printf("name %zu\n", tt_name("x", NULL));
	printf("many %ld\n", tt_many(1, 2, 3, 4, 5, 6, 7, 8));
	/* n < 0: run until a signal, calling tt_loop every 10 ms. */
	for (i = 0; n < 0 || i < n; i++) {
		sum += tt_loop((int)i);
		if (n < 0)
			usleep(10000);
	}
	printf("loop %ld\n", sum);
	return argc > 2 ? atoi(argv[2]) : 0;
}
