// SPDX-License-Identifier: MIT
/*
 * fault_inject: make the Nth call to `symbol` fail, as the kernel's
 * fail_function does with bpf_override_return(). The probe on the
 * function's entry returns 0 to the caller without running the function,
 * so with the default symbol the program sees malloc() return NULL once.
 *
 *   LD_PRELOAD=build/examples/fault_inject.so build/demo/worker
 *   PK_PARAM_symbol=malloc PK_PARAM_nth=5 LD_PRELOAD=... any-program
 *
 * Only calls made on the program's main thread after init are counted:
 * the loader, the library and other threads allocate at times that differ
 * from run to run, and "the Nth call" must name the same call each time.
 */
#define _GNU_SOURCE
#define KBUILD_MODNAME "fault_inject"

#include <string.h>
#include <unistd.h>

#include <probekit.h>

#include "module.h"

static struct pk_probe kp;
static int nth;
/* Written by the main thread only (see handler_pre). */
static int calls;
static int failed_call;
/* Read by every thread that calls the function. */
static int counting;

static int handler_pre(struct pk_probe *p, struct pk_regs *regs)
{
	struct pk_regs before;

	/* tid == pid is the main thread, also in a child after fork(). */
	if (!__atomic_load_n(&counting, __ATOMIC_RELAXED) || gettid() != getpid())
		return 0;
	if (++calls != nth)
		return 0;
	pk_regs_set_return_value(regs, 0);
	before = *regs;
	pk_override_function_return(regs);
	if (!memcmp(&before, regs, sizeof(before))) {
		/* The return address could not be read: let the call run rather than loop. */
		fprintf(stderr, KBUILD_MODNAME ": cannot override call %d to %s\n", calls,
			p->symbol_name);
		return 0;
	}
	failed_call = calls;
	fprintf(stderr, "fault_inject: failing call %d to %s\n", calls, p->symbol_name);
	/* Non-zero: regs->ip was changed, resume at the caller instead of the function. */
	return 1;
}

static int fault_inject_init(void)
{
	char where[256];
	int ret;

	ret = module_param_int("nth", 3, 1, INT_MAX, &nth);
	if (ret)
		return ret;
	kp.symbol_name = module_param_string("symbol", "malloc");
	kp.pre_handler = handler_pre;
	ret = pk_register_probe(&kp);
	if (ret < 0) {
		fprintf(stderr, KBUILD_MODNAME ": pk_register_probe(%s) failed, returned %d\n",
			kp.symbol_name, ret);
		return ret;
	}
	pk_sprint_symbol(where, sizeof(where), kp.addr);
	fprintf(stderr, KBUILD_MODNAME ": Planted probe at %p (%s), failing call %d\n", kp.addr,
		where, nth);
	/* Last: the calls above (ours and the library's) are not the program's. */
	__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
	return 0;
}

static void fault_inject_exit(void)
{
	__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
	pk_unregister_probe(&kp);
	if (failed_call)
		fprintf(stderr,
			KBUILD_MODNAME ": %d calls to %s counted, call %d failed, nmissed = %lu\n",
			calls, kp.symbol_name, failed_call, kp.nmissed);
	else
		fprintf(stderr,
			KBUILD_MODNAME ": %d calls to %s counted, none failed, nmissed = %lu\n",
			calls, kp.symbol_name, kp.nmissed);
}

module_init(fault_inject_init);
module_exit(fault_inject_exit);
