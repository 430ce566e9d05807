// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * exec_tracer: the do_execve tracer of the articles. One line for each
 * program any task executes, with the pid and name of the task asking for
 * it (the name before the exec changes it) and the file name it asked for:
 *
 *   exec_tracer: |pid:    214 |comm:        env |filename = /bin/echo|
 *
 * do_execve() was the common step of every exec when the articles were
 * written; since Linux 5.9 it is a small static function that the compiler
 * folds into the system calls, so there is nothing left to probe by that
 * name. bprm_execve() took its place: execve, execveat and the kernel's own
 * kernel_execve (init, usermode helpers) all go through it, with the binprm
 * already holding the file name, and its symbol is in kallsyms.
 *
 * The user-space twin is examples/exec_tracer.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#define FILENAME_LEN 256

static atomic_long_t execs = ATOMIC_LONG_INIT(0);

/*
 * Copy the kernel string at @src into @dst (@size bytes, always
 * terminated) without faulting, byte by byte: the kernel exports
 * copy_from_kernel_nofault() but not its string form, and a block copy
 * could run past the string into an unmapped page.
 * Returns the length, or -EFAULT.
 */
static long copy_kernel_string_nofault(char *dst, const char *src, size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size; i++) {
		if (get_kernel_nofault(dst[i], src + i)) {
			dst[0] = '\0';
			return -EFAULT;
		}
		if (!dst[i])
			return i;
	}
	dst[i] = '\0';
	return i;
}

static int handler_pre(struct kprobe *p, struct pt_regs *regs)
{
	/* bprm_execve(struct linux_binprm *bprm, int fd, struct filename *filename, int flags) */
	struct linux_binprm *bprm = (struct linux_binprm *)regs_get_kernel_argument(regs, 0);
	const char *name = NULL;
	char filename[FILENAME_LEN];

	atomic_long_inc(&execs);
	/*
	 * No-fault copies: if a later kernel changes bprm_execve's arguments,
	 * this prints "(fault)" instead of oopsing in every exec of the system.
	 */
	if (get_kernel_nofault(name, &bprm->filename) ||
	    copy_kernel_string_nofault(filename, name, sizeof(filename)) < 0)
		strscpy(filename, "(fault)", sizeof(filename));
	pr_info("|pid: %6d |comm: %10s |filename = %s|\n", task_pid_nr(current), current->comm,
		filename);
	return 0;
}

static struct kprobe kp = {
    .symbol_name = "bprm_execve",
    .pre_handler = handler_pre,
};

static int __init exec_tracer_init(void)
{
	int ret = register_kprobe(&kp);

	if (ret < 0) {
		pr_err("register_kprobe(%s) failed, returned %d\n", kp.symbol_name, ret);
		return ret;
	}
	pr_info("Planted kprobe at %px (%pS)\n", kp.addr, kp.addr);
	return 0;
}

static void __exit exec_tracer_exit(void)
{
	unregister_kprobe(&kp);
	pr_info("kprobe at %px unregistered: %ld execs seen, nmissed = %lu\n", kp.addr,
		atomic_long_read(&execs), kp.nmissed);
}

module_init(exec_tracer_init);
module_exit(exec_tracer_exit);
MODULE_DESCRIPTION("prints the pid, comm and file name of every exec");
MODULE_LICENSE("Dual MIT/GPL");
