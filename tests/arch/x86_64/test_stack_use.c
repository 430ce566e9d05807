// SPDX-License-Identifier: MIT
/*
 * What a probe hit puts on the traced thread's own stack. The probed
 * function runs on a small makecontext stack filled with a pattern; the
 * lowest byte that changed, measured from the stack pointer at the probed
 * instruction less the red zone, is what probekit used there. The kernel's
 * probes use none; probekit's budget is 512 bytes on every path, handlers'
 * frames and vector state going elsewhere (a per-thread handler stack).
 * And uftrace's s-ucontext case: a return probe on a function that runs on
 * an 8 KiB makecontext stack.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "probekit.h"
#include "pk_test.h"

/* A leaf that touches no stack: whatever changes below its caller's frame is ours. */
__asm__(".text\n"
	".globl su_leaf\n"
	".type su_leaf, @function\n"
	"su_leaf:\n"
	"	lea 1(%rdi), %rax\n"
	"	add %rsi, %rax\n"
	"	ret\n"
	".size su_leaf, .-su_leaf\n");
long su_leaf(long a, long b);

/* tgkill(a, b, c) from a leaf that records its stack pointer: the kernel's signal frame alone. */
__asm__(".text\n"
	".globl su_tgkill\n"
	".type su_tgkill, @function\n"
	"su_tgkill:\n"
	"	mov %rsp, su_sp(%rip)\n"
	"	mov $234, %eax\n"
	"	syscall\n"
	"	ret\n"
	".size su_tgkill, .-su_tgkill\n");
long su_tgkill(long tgid, long tid, long sig);
uintptr_t su_sp;

#define STACK_SIZE 8192
#define PATTERN	   0xa5
#define BUDGET	   512

static unsigned char stack[STACK_SIZE] __attribute__((aligned(64)));
static ucontext_t main_ctx, fn_ctx;
static volatile uintptr_t sp_at_probe;
static volatile long result;
static volatile int hits;
static int use_big_frame;

/* A handler with a frame of its own (and vector code for the memset): off the program's stack. */
static __attribute__((noinline)) void big_frame(void)
{
	volatile char buf[2048];

	memset((char *)buf, 1, sizeof(buf));
	(void)buf[hits & 1023];
}

static int pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	if (!sp_at_probe)
		sp_at_probe = regs->sp;
	hits++;
	if (use_big_frame)
		big_frame();
	return 0;
}

static void post(struct pk_probe *p, struct pk_regs *regs, unsigned long flags)
{
	(void)p, (void)regs, (void)flags;
	hits++;
	if (use_big_frame)
		big_frame();
}

static int rp_entry(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	(void)ri;
	if (!sp_at_probe)
		sp_at_probe = regs->sp;
	return 0;
}

static int rp_ret(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	(void)ri, (void)regs;
	hits++;
	if (use_big_frame)
		big_frame();
	return 0;
}

static int raise_signal;

static void fn_main(void)
{
	if (raise_signal) {
		su_tgkill(getpid(), gettid(), SIGUSR1);
		sp_at_probe = su_sp;
		result = 42;
		return;
	}
	result = su_leaf(40, 1);
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
}

/* Run su_leaf on the patterned stack; the bytes used below sp - 128 at the probe, or -1. */
static long run_on_small_stack(void)
{
	size_t i;

	memset(stack, PATTERN, sizeof(stack));
	sp_at_probe = 0;
	result = 0;
	getcontext(&fn_ctx);
	fn_ctx.uc_stack.ss_sp = stack;
	fn_ctx.uc_stack.ss_size = sizeof(stack);
	fn_ctx.uc_link = &main_ctx;
	makecontext(&fn_ctx, fn_main, 0);
	swapcontext(&main_ctx, &fn_ctx);
	if (!sp_at_probe || result != 42)
		return -1;
	for (i = 0; i < sizeof(stack) && stack[i] == PATTERN; i++)
		;
	return (long)(sp_at_probe - 128) - (long)(uintptr_t)&stack[i];
}

struct path {
	const char *name;
	int optimize, post, retprobe;
};

static long kernel_frame;

static void measure(const struct path *w, int big)
{
	struct pk_probe kp = {.symbol_name = "su_leaf", .pre_handler = pre};
	struct pk_retprobe rp = {
	    .kp.symbol_name = "su_leaf", .handler = rp_ret, .entry_handler = rp_entry};
	int old = pk_set_optimization(w->optimize);
	long used;

	use_big_frame = big;
	if (w->post)
		kp.post_handler = post;
	hits = 0;
	if (w->retprobe)
		CHECK_EQ(pk_register_retprobe(&rp), 0);
	else
		CHECK_EQ(pk_register_probe(&kp), 0);
	used = run_on_small_stack();
	printf("  %-18s %-10s %5ld bytes beyond the red zone\n", w->name,
	       big ? "big frame" : "empty", used);
	CHECK(hits >= 1);
	CHECK(used >= 0);
	/*
	 * A jump: only the saved registers. An int3: the kernel's signal frame
	 * (its size is the CPU's: the xsave state) and a few words of ours.
	 */
	if (w->optimize && old) {
		CHECK_EQ(!!((w->retprobe ? rp.kp.flags : kp.flags) & PK_FLAG_OPTIMIZED), 1);
		CHECK(used < BUDGET);
	} else {
		CHECK(used < kernel_frame + BUDGET);
	}
	if (w->retprobe)
		pk_unregister_retprobe(&rp);
	else
		pk_unregister_probe(&kp);
	pk_set_optimization(old);
}

static const struct path paths[] = {
    {"detour", 1, 0, 0}, {"detour+post stub", 1, 1, 0}, {"return trampoline", 1, 0, 1},
    {"int3", 0, 0, 0},	 {"int3+post", 0, 1, 0},	{"int3 return", 0, 0, 1},
};

static void test_stack_bytes_per_path(void)
{
	struct sigaction sa = {.sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO}, old;
	size_t i;

	/* The yardstick for int3: what the kernel's own signal delivery takes here. */
	sigaction(SIGUSR1, &sa, &old);
	raise_signal = 1;
	kernel_frame = run_on_small_stack();
	raise_signal = 0;
	sigaction(SIGUSR1, &old, NULL);
	printf("  kernel signal frame: %ld bytes\n", kernel_frame);
	CHECK(kernel_frame > 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		measure(&paths[i], 0);
		measure(&paths[i], 1);
	}
}

int main(void)
{
	RUN(test_stack_bytes_per_path);
	TEST_EXIT();
}
