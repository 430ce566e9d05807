// SPDX-License-Identifier: MIT
/*
 * A program for the user stack tests, built with frame pointers: main calls
 * top, top calls mid, mid calls leaf, three times from three call sites of
 * main, so that each stack is known. It lingers a little before it exits,
 * so that the kernel can still name the objects of its last stacks.
 * Usage: stack_target [MS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noipa)) int st_leaf(int x)
{
	return x * 2 + 1;
}

__attribute__((noipa)) int st_mid(int x)
{
	return st_leaf(x) + 1;
}

__attribute__((noipa)) int st_top(int x)
{
	return st_mid(x) + 1;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 0;
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};
	int s = st_top(1);

	s += st_top(2);
	s += st_top(3);
	printf("stack_target %d\n", s);
	fflush(stdout);
	nanosleep(&ts, NULL);
	return 0;
}
