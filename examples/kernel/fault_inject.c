// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * fault_inject: make a function fail without running it, as the kernel's
 * fail_function does. A kprobe on the function's entry sends the task,
 * while the function's frame is not yet built, into a stand-in that
 * returns -error to the caller. Only tasks named `comm` are hit, so that
 * the rest of the system goes on.
 *
 *   insmod fault_inject.ko comm=mkdir error=28   # ENOSPC
 *   mkdir /tmp/d        # mkdir: can't create directory '/tmp/d': No space left on device
 *   rmmod fault_inject  # and mkdir works again
 *
 * `symbol` defaults to the mkdir system call. Any function that returns an
 * int or long error code can stand, but only some cope with failing before
 * they did anything: the system calls do (they have nothing to undo yet),
 * and kernels built with CONFIG_FUNCTION_ERROR_INJECTION list the others in
 * /sys/kernel/debug/error_injection/list.
 *
 * The user-space twin is examples/fault_inject.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/string.h>

#if defined(CONFIG_X86_64)
#define DEFAULT_SYMBOL "__x64_sys_mkdir"
#elif defined(CONFIG_ARM64)
#define DEFAULT_SYMBOL "__arm64_sys_mkdirat"
#else
#error "fault_inject knows the system call names of x86-64 and arm64 only"
#endif

static char symbol[KSYM_NAME_LEN] = DEFAULT_SYMBOL;
module_param_string(symbol, symbol, sizeof(symbol), 0444);
MODULE_PARM_DESC(symbol, "function made to fail (default " DEFAULT_SYMBOL ")");

static int error = ENOMEM;
module_param(error, int, 0444);
MODULE_PARM_DESC(error, "errno the function returns, negated (default ENOMEM)");

static char comm[TASK_COMM_LEN];
module_param_string(comm, comm, sizeof(comm), 0444);
MODULE_PARM_DESC(comm, "only tasks of this name fail (default: every task)");

static atomic_long_t injected = ATOMIC_LONG_INIT(0);

/*
 * Entered instead of the probed function, with that function's return
 * address still on top of the stack (x86-64) or in the link register
 * (arm64): its return is the probed function's return, with -error.
 * noinline and used only through its address, so it stays a function of
 * its own whatever the optimiser does.
 */
static noinline long injected_return(void)
{
	return -(long)error;
}

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (comm[0] && strncmp(current->comm, comm, TASK_COMM_LEN))
		return 0;
	atomic_long_inc(&injected);
	pr_info("%s[%d]: %s returns %d\n", current->comm, task_pid_nr(current), p->symbol_name,
		-error);
	instruction_pointer_set(regs, (unsigned long)injected_return);
	/* Non-zero: the handler moved the instruction pointer, do not run the probed one. */
	return 1;
}

static struct kprobe kp = {
    .pre_handler = handler_pre,
};

static int __init fault_inject_init(void)
{
	int ret;

	if (error <= 0 || error >= MAX_ERRNO) {
		pr_err("error=%d: want an errno between 1 and %d\n", error, MAX_ERRNO - 1);
		return -EINVAL;
	}
	kp.symbol_name = symbol;
	/* At the entry and nowhere else: the stand-in needs the caller's frame untouched. */
	kp.offset = 0;
	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("register_kprobe(%s) failed, returned %d\n", symbol, ret);
		return ret;
	}
	pr_info("Planted kprobe at %px (%pS): %s returns %d for %s\n", kp.addr, kp.addr, symbol,
		-error, comm[0] ? comm : "every task");
	return 0;
}

static void __exit fault_inject_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("kprobe at %px unregistered: %ld calls failed, nmissed = %lu\n", kp.addr,
		atomic_long_read(&injected), kp.nmissed);
}

module_init(fault_inject_init);
module_exit(fault_inject_exit);
MODULE_DESCRIPTION("makes a function return an error without running it");
MODULE_LICENSE("Dual MIT/GPL");
