// SPDX-License-Identifier: MIT
/*
 * Deep recursion for return probes: fib(N) by a recursion N calls deep, in
 * THREADS threads at once (argv[2], default 1), each printing its result.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* fib(n) = fib(n-1) + fib(n-2), the pair carried down: N frames, not 2^N. */
__attribute__((noipa)) unsigned long fib(unsigned long n, unsigned long *prev)
{
	unsigned long p, f;

	if (n < 2) {
		*prev = 0;
		return n;
	}
	f = fib(n - 1, &p);
	*prev = f;
	return f + p;
}

static void *run(void *arg)
{
	unsigned long prev, n = (unsigned long)arg;

	printf("fib(%lu) mod 2^64 = %lu\n", n, fib(n, &prev));
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	int i, threads = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t th[64];

	if (threads < 1 || threads > 64)
		return 2;
	for (i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, run, (void *)n);
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return 0;
}
