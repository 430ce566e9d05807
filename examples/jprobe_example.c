// SPDX-License-Identifier: MIT
/*
 * jprobe_example: the kernel's jprobe sample (it printed _do_fork's
 * clone_flags and stack arguments), for a process, in the seeds' use of
 * jprobes: getting a function's arguments by their names and types. The
 * handler has the probed function's own prototype and ends with
 * pk_jprobe_return(); the function then runs as if nothing had happened.
 *
 *   LD_PRELOAD=build/examples/jprobe_example.so build/demo/worker
 *   PK_PARAM_symbol=do_work LD_PRELOAD=... build/demo/worker
 */
#define KBUILD_MODNAME "jprobe_example"

#include <probekit.h>

#include "module.h"

static unsigned long entries;

/* The prototype of demo/worker's int do_work(int a, int b, int c). */
static int j_do_work(int a, int b, int c)
{
	entries++;
	fprintf(stderr, "jprobe: a = %d, b = %d, c = %d\n", a, b, c);
	/* Always end with pk_jprobe_return(): it does not return, the probed function runs. */
	pk_jprobe_return();
	return 0;
}

static struct pk_jprobe my_jprobe = {
    .entry = j_do_work,
};

static int jprobe_init(void)
{
	int ret;

	my_jprobe.kp.symbol_name = module_param_string("symbol", "do_work");
	ret = pk_register_jprobe(&my_jprobe);
	if (ret < 0) {
		fprintf(stderr, KBUILD_MODNAME ": pk_register_jprobe(%s) failed, returned %d\n",
			my_jprobe.kp.symbol_name, ret);
		return ret;
	}
	fprintf(stderr, KBUILD_MODNAME ": Planted jprobe at %p, handler addr %p\n",
		my_jprobe.kp.addr, my_jprobe.entry);
	return 0;
}

static void jprobe_exit(void)
{
	pk_unregister_jprobe(&my_jprobe);
	fprintf(stderr, KBUILD_MODNAME ": jprobe at %p unregistered: %lu entries, nmissed = %lu\n",
		my_jprobe.kp.addr, entries, my_jprobe.kp.nmissed);
}

module_init(jprobe_init);
module_exit(jprobe_exit);
