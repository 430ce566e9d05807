// SPDX-License-Identifier: MIT
/* Threads and a forked child calling one function, for the tracer's tests. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define CALLS	1000

__attribute__((noipa)) long mt_work(long thread, long i)
{
	return thread * 100000 + i;
}

static void *run(void *arg)
{
	long t = (long)arg, i, sum = 0;

	for (i = 0; i < CALLS; i++)
		sum += mt_work(t, i);
	return (void *)sum;
}

int main(void)
{
	pthread_t th[THREADS];
	long t, total = 0;
	int status;
	pid_t pid;

	for (t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, run, (void *)t);
	for (t = 0; t < THREADS; t++) {
		void *r;

		pthread_join(th[t], &r);
		total += (long)r;
	}
	pid = fork();
	if (pid == 0) {
		/* The child goes on tracing into the same ring, under its own pid. */
		for (t = 0; t < 100; t++)
			total += mt_work(99, t);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("total %ld child %d\n", total, WEXITSTATUS(status));
	return 0;
}
