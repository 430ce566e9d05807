// SPDX-License-Identifier: MIT
/*
 * uftrace's s-ucontext case: functions that run on an 8 KiB makecontext
 * stack, called once on the main stack (which binds memset lazily there),
 * then N times (argument 1, default 100) on the small one.
 * co_work takes argument 2 bytes (default 1024) of that stack itself, so
 * little is left for anything else. Prints the sum so a changed result shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static ucontext_t main_ctx, co_ctx;
static char co_stack[8192] __attribute__((aligned(16)));
static volatile long total;
static long frame = 1024;

__attribute__((noinline)) long co_leaf(long a)
{
	return a * 3 + 1;
}

__attribute__((noinline)) long co_work(long a)
{
	char *local = __builtin_alloca(frame);

	memset(local, (int)a, frame);
	__asm__ volatile("" : : "r"(local) : "memory");
	return co_leaf(a) + local[frame - 1];
}

static void co_main(void)
{
	total += co_work(total & 0xff);
}

int main(int argc, char **argv)
{
	int i, n = argc > 1 ? atoi(argv[1]) : 100;

	if (argc > 2)
		frame = atol(argv[2]);

	total += co_work(7);
	for (i = 0; i < n; i++) {
		getcontext(&co_ctx);
		co_ctx.uc_stack.ss_sp = co_stack;
		co_ctx.uc_stack.ss_size = sizeof(co_stack);
		co_ctx.uc_link = &main_ctx;
		makecontext(&co_ctx, co_main, 0);
		swapcontext(&main_ctx, &co_ctx);
	}
	printf("%ld\n", total);
	return 0;
}
