// SPDX-License-Identifier: MIT
/*
 * The program that tests/test_probe.sh derives perf probe definitions on,
 * built at -O0 and -O2: a struct reached through a pointer, an array, a
 * string, a loop's line, and a static inline function inlined in three
 * places, whose argument each copy gets is different and known.
 */
#include <stdio.h>
#include <stdlib.h>

struct item {
	int id;
	const char *name;
	int vals[4];
	struct item *next;
};

int total;

__attribute__((noinline)) void sink(int v)
{
	total += v;
	__asm__ volatile("" ::: "memory");
}

static inline __attribute__((always_inline)) int scale(int v, int k)
{
	int r = v * k;

	sink(r);
	return r + 1;
}

__attribute__((noinline)) int callee(int a, struct item *p, const char *s)
{
	int sum = 0;

	for (int i = 0; i < 4; i++)
		sum += p->vals[i];
	printf("callee %d %s %s %d\n", a, p->name, s, sum);
	return sum + a;
}

__attribute__((noinline)) int pick(int v)
{
	__asm__ volatile("" : "+r"(v));
	return v;
}

__attribute__((noinline)) int shifted(int a)
{
	int b = a + 1;

	sink(a);
	return b * 3;
}

int main(int argc, char **argv)
{
	struct item second = {8, "eight", {5, 6, 7, 8}, NULL};
	struct item first = {7, "seven", {1, 2, 3, 4}, &second};
	int r, rounds = argc > 1 ? atoi(argv[1]) : 1;

	for (int n = 0; n < rounds; n++) {
		r = callee(argc + 40, &first, "hello");
		r += callee(argc + 50, first.next, argv[0]);
		r += scale(pick(r), 2);
		r += scale(pick(argc + 100), 3);
		r += scale(pick(total), 5);
		r += shifted(r);
	}
	printf("r=%d total=%d\n", r, total);
	return 0;
}
