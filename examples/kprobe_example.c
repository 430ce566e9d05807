// SPDX-License-Identifier: MIT
/*
 * kprobe_example: the classic first kprobes module, for a process. A probe
 * on the entry of `symbol` whose pre_handler shows where it stopped and the
 * function's third argument, and whose post_handler shows the flags once
 * the probed instruction has run.
 *
 *   LD_PRELOAD=build/examples/kprobe_example.so build/demo/worker
 *   PK_PARAM_symbol=libc:puts LD_PRELOAD=... any-program
 */
#define KBUILD_MODNAME "kprobe_example"

#include <probekit.h>

#include "module.h"

static struct pk_probe kp;
static unsigned long pre_hits, post_hits;

/*
 * Runs in the probed thread, from its SIGTRAP handler, before the probed
 * instruction. fprintf() is not async-signal-safe: fine for do_work, but
 * this module on a stdio function would re-enter stdio (the library only
 * guards against the handler re-hitting a probe, counted in nmissed).
 */
static int handler_pre(struct pk_probe *p, struct pk_regs *regs)
{
	__atomic_fetch_add(&pre_hits, 1, __ATOMIC_RELAXED);
	/* arg3 is only meaningful because the probe sits on the function's first instruction. */
#if defined(__x86_64__)
	fprintf(stderr, "<%s> pre_handler: p->addr = %p, ip = %lx, flags = 0x%lx, arg3 = %lu\n",
		p->symbol_name, p->addr, regs->ip, regs->flags, pk_regs_get_argument(regs, 2));
#elif defined(__aarch64__)
	fprintf(stderr, "<%s> pre_handler: p->addr = %p, pc = 0x%lx, pstate = 0x%lx, arg3 = %lu\n",
		p->symbol_name, p->addr, regs->pc, regs->pstate, pk_regs_get_argument(regs, 2));
#endif
	/* 0: go on and run the probed instruction (and then the post_handler). */
	return 0;
}

/* Runs after the probed instruction, with the registers as it left them. */
static void handler_post(struct pk_probe *p, struct pk_regs *regs, unsigned long flags)
{
	(void)flags;
	__atomic_fetch_add(&post_hits, 1, __ATOMIC_RELAXED);
#if defined(__x86_64__)
	fprintf(stderr, "<%s> post_handler: p->addr = %p, flags = 0x%lx\n", p->symbol_name, p->addr,
		regs->flags);
#elif defined(__aarch64__)
	fprintf(stderr, "<%s> post_handler: p->addr = %p, pstate = 0x%lx\n", p->symbol_name,
		p->addr, regs->pstate);
#endif
}

static int kprobe_init(void)
{
	char where[256];
	int ret;

	kp.symbol_name = module_param_string("symbol", "do_work");
	kp.pre_handler = handler_pre;
	kp.post_handler = handler_post;
	ret = pk_register_probe(&kp);
	if (ret < 0) {
		fprintf(stderr, KBUILD_MODNAME ": pk_register_probe(%s) failed, returned %d\n",
			kp.symbol_name, ret);
		return ret;
	}
	pk_sprint_symbol(where, sizeof(where), kp.addr);
	fprintf(stderr, KBUILD_MODNAME ": Planted probe at %p (%s)\n", kp.addr, where);
	return 0;
}

static void kprobe_exit(void)
{
	pk_unregister_probe(&kp);
	fprintf(stderr,
		KBUILD_MODNAME
		": probe at %p unregistered: %lu pre, %lu post hits, nmissed = %lu\n",
		kp.addr, pre_hits, post_hits, kp.nmissed);
}

module_init(kprobe_init);
module_exit(kprobe_exit);
