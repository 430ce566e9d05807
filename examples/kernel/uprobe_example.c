// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * uprobe_example: the seed's uprobe module (seed 001). A uprobe consumer on
 * byte `offset` of file `filename`, in every process that maps it: the
 * handler prints the first two arguments, the ret_handler the return value.
 * On the seed's callee(8, 9):
 *
 *   insmod uprobe_example.ko filename=/path/main offset=0x1139
 *   uprobe_example: handler: arg0 = 8 arg1 = 9
 *   uprobe_example: ret_handler ret = 17
 *
 * The offset is a file offset (`probekit list -o -x FILE` prints each
 * function's). The user-space twin is examples/uprobe_example.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/namei.h>
#include <linux/ptrace.h>
#include <linux/uprobes.h>

static char *filename;
module_param(filename, charp, 0444);
MODULE_PARM_DESC(filename, "the program or library to probe (required)");

static long offset = -1;
module_param(offset, long, 0444);
MODULE_PARM_DESC(offset, "file offset of the probed instruction (required)");

static int handler_pre(struct uprobe_consumer *self, struct pt_regs *regs)
{
	pr_info("handler: arg0 = %d arg1 = %d\n", (int)regs->di, (int)regs->si);
	return 0;
}

static int handler_ret(struct uprobe_consumer *self, unsigned long func, struct pt_regs *regs)
{
	pr_info("ret_handler ret = %d\n", (int)regs->ax);
	return 0;
}

static struct uprobe_consumer uc = {
    .handler = handler_pre,
    .ret_handler = handler_ret,
};

static struct inode *inode;

static int __init uprobe_init(void)
{
	struct path path;
	int ret;

	/* The seed's module took both on trust: kern_path(NULL) would oops. */
	if (!filename || offset < 0) {
		pr_err("filename and offset are required\n");
		return -EINVAL;
	}
	ret = kern_path(filename, LOOKUP_FOLLOW, &path);
	if (ret < 0) {
		pr_err("kern_path failed, returned %d\n", ret);
		return ret;
	}
	inode = igrab(path.dentry->d_inode);
	path_put(&path);

	ret = uprobe_register(inode, offset, &uc);
	if (ret < 0) {
		pr_err("register_uprobe failed, returned %d\n", ret);
		iput(inode);
		return ret;
	}
	pr_info("Planted uprobe at %s:0x%lx\n", filename, offset);
	return 0;
}

static void __exit uprobe_exit(void)
{
	uprobe_unregister(inode, offset, &uc);
	iput(inode);
	pr_info("uprobe at %s:0x%lx unregistered\n", filename, offset);
}

module_init(uprobe_init);
module_exit(uprobe_exit);
MODULE_DESCRIPTION("The seed's uprobe consumer: arguments and return value of a user function");
MODULE_LICENSE("Dual MIT/GPL");
