// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * kretprobe_example: the return probe of the articles. The entry_handler
 * stamps the time into the instance's private data when `symbol`
 * (kernel_clone unless told otherwise) is entered; the handler prints the
 * return value and how long the call took when it returns:
 *
 *   kretprobe_example: kernel_clone returned 215 and took 181203 ns to execute
 *
 * The user-space twin is examples/kretprobe_example.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/module.h>

static char symbol[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(symbol, symbol, sizeof(symbol), 0444);
MODULE_PARM_DESC(symbol, "function whose calls are timed (default kernel_clone)");

/* Per-call private data: lives in the kretprobe_instance from entry to return. */
struct call_data {
	ktime_t entry_stamp;
};

static int entry_handler(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct call_data *data = (struct call_data *)ri->data;

	data->entry_stamp = ktime_get();
	/* 0: hook this call's return; non-zero would let it go untimed. */
	return 0;
}

static int ret_handler(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct call_data *data = (struct call_data *)ri->data;
	s64 delta = ktime_to_ns(ktime_sub(ktime_get(), data->entry_stamp));

	pr_info("%s returned %ld and took %lld ns to execute\n", symbol,
		(long)regs_return_value(regs), (long long)delta);
	return 0;
}

static struct kretprobe rp = {
    .handler = ret_handler,
    .entry_handler = entry_handler,
    .data_size = sizeof(struct call_data),
    /* Calls that may be in flight at once; more count as nmissed. */
    .maxactive = 20,
};

static int __init kretprobe_example_init(void)
{
	int ret;

	rp.kp.symbol_name = symbol;
	ret = register_kretprobe(&rp);
	if (ret < 0) {
		pr_err("register_kretprobe(%s) failed, returned %d\n", symbol, ret);
		return ret;
	}
	pr_info("Planted return probe at %px (%pS)\n", rp.kp.addr, rp.kp.addr);
	return 0;
}

static void __exit kretprobe_example_exit(void)
{
	unregister_kretprobe(&rp);
	pr_info("return probe at %px unregistered\n", rp.kp.addr);
	/* Calls whose return went untimed because all maxactive instances were busy. */
	pr_info("Missed probing %d instances of %s\n", rp.nmissed, symbol);
}

module_init(kretprobe_example_init);
module_exit(kretprobe_example_exit);
MODULE_DESCRIPTION("kretprobe timing each call of a function given as a parameter");
MODULE_LICENSE("Dual MIT/GPL");
