// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * kprobe_example: the first module of the kprobes articles. A kprobe on the
 * entry of `symbol` (kernel_clone unless told otherwise) whose pre_handler
 * shows where it stopped, the flags and the third argument register, and
 * whose post_handler shows the flags once the probed instruction has run.
 *
 *   insmod kprobe_example.ko                   # every fork prints two lines
 *   insmod kprobe_example.ko symbol=do_mkdirat # any probeable function
 *   dmesg | grep kprobe_example
 *
 * The user-space twin is examples/kprobe_example.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>

static char symbol[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(symbol, symbol, sizeof(symbol), 0444);
MODULE_PARM_DESC(symbol, "function to probe (default kernel_clone)");

static struct kprobe kp;

/*
 * The third argument is read by register name, as the articles do: it is
 * only that argument because the probe sits on the function's first
 * instruction, before the function moved anything.
 */
#if defined(CONFIG_X86_64)
#define ARG3_NAME   "dx"
#define ARG3(regs)  ((regs)->dx)
#define FLAGS(regs) ((regs)->flags)
#elif defined(CONFIG_ARM64)
#define ARG3_NAME   "x2"
#define ARG3(regs)  ((regs)->regs[2])
#define FLAGS(regs) ((regs)->pstate)
#else
#error "kprobe_example knows the register names of x86-64 and arm64 only"
#endif

/* Runs with preemption off, in the probed task, before the probed instruction. */
static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	pr_info("<%s> pre_handler: p->addr = %px, ip = %lx, flags = 0x%lx, " ARG3_NAME " = %lu\n",
		p->symbol_name, p->addr, instruction_pointer(regs), (unsigned long)FLAGS(regs),
		(unsigned long)ARG3(regs));
	/* 0: run the probed instruction (and then the post_handler). */
	return 0;
}

/* Runs once the probed instruction has run (single-stepped, or skipped over by ftrace). */
static void handler_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
	pr_info("<%s> post_handler: p->addr = %px, flags = 0x%lx\n", p->symbol_name, p->addr,
		(unsigned long)FLAGS(regs));
}

static int __init kprobe_example_init(void)
{
	int ret;

	kp.symbol_name = symbol;
	kp.pre_handler = handler_pre;
	kp.post_handler = handler_post;
	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("register_kprobe(%s) failed, returned %d\n", symbol, ret);
		return ret;
	}
	pr_info("Planted kprobe at %px (%pS)\n", kp.addr, kp.addr);
	return 0;
}

static void __exit kprobe_example_exit(void)
{
	unregister_kprobe(&kp);
	/* nmissed: hits while another kprobe's handler ran on that CPU. */
	pr_info("kprobe at %px unregistered, nmissed = %lu\n", kp.addr, kp.nmissed);
}

module_init(kprobe_example_init);
module_exit(kprobe_example_exit);
MODULE_DESCRIPTION("kprobe with pre and post handlers on a function given as a parameter");
MODULE_LICENSE("Dual MIT/GPL");
