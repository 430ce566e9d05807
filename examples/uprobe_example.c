// SPDX-License-Identifier: MIT
/*
 * uprobe_example: the seed's uprobe module (seed 001), for a process. A
 * consumer on byte `offset` of file `filename`, in whatever mapping of the
 * file the program has: its handler prints the first two arguments, its
 * ret_handler the return value. The offset is a file offset, as
 * uprobe_events takes it; `probekit list -o -x FILE` prints each function's.
 *
 *   PK_PARAM_offset=0x1139 LD_PRELOAD=build/examples/uprobe_example.so ./main
 *   PK_PARAM_filename=/usr/lib/x86_64-linux-gnu/libz.so.1 PK_PARAM_offset=... LD_PRELOAD=...
 */
#define KBUILD_MODNAME "uprobe_example"

#include <probekit.h>

#include "module.h"

static const char *filename;
static int offset;

static int handler_pre(struct pk_uprobe_consumer *self, struct pk_regs *regs)
{
	(void)self;
	fprintf(stderr, "handler: arg0 = %d arg1 = %d\n", (int)pk_regs_get_argument(regs, 0),
		(int)pk_regs_get_argument(regs, 1));
	return 0;
}

static int handler_ret(struct pk_uprobe_consumer *self, unsigned long func, struct pk_regs *regs)
{
	(void)self;
	(void)func;
	fprintf(stderr, "ret_handler ret = %d\n", (int)pk_regs_return_value(regs));
	return 0;
}

static struct pk_uprobe_consumer uc = {
    .handler = handler_pre,
    .ret_handler = handler_ret,
};

static int uprobe_init(void)
{
	int ret;

	/* The program itself unless told otherwise: a preloaded module has no path of its own. */
	filename = module_param_string("filename", "/proc/self/exe");
	ret = module_param_int("offset", -1, 0, 0x7fffffff, &offset);
	if (ret)
		return ret;
	if (offset < 0) {
		fprintf(stderr, KBUILD_MODNAME ": parameter offset is required\n");
		return -EINVAL;
	}
	ret = pk_register_uprobe(filename, (unsigned long)offset, &uc);
	if (ret < 0) {
		fprintf(stderr, KBUILD_MODNAME ": register_uprobe failed, returned %d\n", ret);
		return ret;
	}
	fprintf(stderr, KBUILD_MODNAME ": Planted uprobe at 0x%x in %s\n", offset, filename);
	return 0;
}

static void uprobe_exit(void)
{
	pk_unregister_uprobe(filename, (unsigned long)offset, &uc);
	fprintf(stderr, KBUILD_MODNAME ": uprobe at 0x%x in %s unregistered\n", offset, filename);
}

module_init(uprobe_init);
module_exit(uprobe_exit);
