// SPDX-License-Identifier: MIT
/*
 * kretprobe_example: the classic return probe module, for a process. Takes
 * a timestamp when `symbol` is entered and prints its return value and how
 * long the call took when it returns.
 *
 *   LD_PRELOAD=build/examples/kretprobe_example.so build/demo/worker
 *   PK_PARAM_symbol=libc:getpid LD_PRELOAD=... any-program
 */
#define KBUILD_MODNAME "kretprobe_example"

#include <time.h>

#include <probekit.h>

#include "module.h"

/* Per-call private data: lives in the instance between entry and return. */
struct my_data {
	long long entry_stamp;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int entry_handler(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct my_data *data = (struct my_data *)ri->data;

	(void)regs;
	data->entry_stamp = now_ns();
	/* 0: hook the return of this call; non-zero would let it go untimed. */
	return 0;
}

static int ret_handler(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct my_data *data = (struct my_data *)ri->data;
	long long delta = now_ns() - data->entry_stamp;

	fprintf(stderr, "%s returned %lu and took %lld ns to execute\n", ri->rp->kp.symbol_name,
		pk_regs_return_value(regs), delta);
	return 0;
}

static struct pk_retprobe my_kretprobe = {
	.handler = ret_handler,
	.entry_handler = entry_handler,
	.data_size = sizeof(struct my_data),
	/* 0: the library's default, max(10, 2 x CPUs) calls in flight at once. */
	.maxactive = 0,
};

static int kretprobe_init(void)
{
	char where[256];
	int ret;

	my_kretprobe.kp.symbol_name = module_param_string("symbol", "do_work");
	ret = pk_register_retprobe(&my_kretprobe);
	if (ret < 0) {
		fprintf(stderr, KBUILD_MODNAME ": pk_register_retprobe(%s) failed, returned %d\n",
			my_kretprobe.kp.symbol_name, ret);
		return ret;
	}
	pk_sprint_symbol(where, sizeof(where), my_kretprobe.kp.addr);
	fprintf(stderr, KBUILD_MODNAME ": Planted return probe at %p (%s)\n", my_kretprobe.kp.addr,
		where);
	return 0;
}

static void kretprobe_exit(void)
{
	pk_unregister_retprobe(&my_kretprobe);
	fprintf(stderr, KBUILD_MODNAME ": return probe at %p unregistered\n", my_kretprobe.kp.addr);
	/* Calls whose return went untimed because all maxactive instances were busy. */
	fprintf(stderr, KBUILD_MODNAME ": Missed probing %lu instances of %s\n",
		my_kretprobe.nmissed, my_kretprobe.kp.symbol_name);
}

module_init(kretprobe_init);
module_exit(kretprobe_exit);
