// SPDX-License-Identifier: MIT
/*
 * A program for the hist trigger tests: functions called with known
 * arguments a known number of times, so that every histogram of them is
 * known in advance, and a function that sleeps as long as the command line
 * says, for latency histograms. Usage: hist_target [USEC...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static char heap[128];

__attribute__((noipa)) void *ht_alloc(unsigned long size, int kind)
{
	return heap + (size + (unsigned long)kind) % sizeof(heap);
}

__attribute__((noipa)) int ht_open(const char *name, int flags)
{
	return name[0] + flags;
}

__attribute__((noipa)) long ht_signed(long v)
{
	return -v;
}

__attribute__((noipa)) void ht_sleep(long usec)
{
	struct timespec ts = {usec / 1000000, usec % 1000000 * 1000};

	while (nanosleep(&ts, &ts))
		;
}

int main(int argc, char **argv)
{
	static const unsigned long sizes[10] = {8, 16, 16, 32, 32, 32, 64, 64, 64, 64};
	static const char *const names[9] = {"alpha", "beta", "beta",  "alpha", "beta",
					     "gamma", "beta", "alpha", "beta"};
	static const long values[8] = {-3, -1, -1, 0, 2, 2, 2, 1000};
	unsigned long sum = 0;
	int i;

	/* size: 8 x10, 16 x20, 32 x30, 64 x40; kind 0..3 x25 each. */
	for (i = 0; i < 100; i++)
		sum += (unsigned long)ht_alloc(sizes[i % 10], i % 4) & 1;
	/* alpha x3, beta x5, gamma x1; flags 0 or 0x40 (0x40 for beta only). */
	for (i = 0; i < 9; i++)
		sum += (unsigned long)ht_open(names[i], names[i][0] == 'b' ? 0x40 : 0);
	for (i = 0; i < 8; i++)
		sum += (unsigned long)ht_signed(values[i]);
	for (i = 1; i < argc; i++)
		ht_sleep(atol(argv[i]));
	printf("hist_target %lu\n", sum);
	return 0;
}
