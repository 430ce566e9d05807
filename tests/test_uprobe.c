// SPDX-License-Identifier: MIT
/*
 * Uprobe consumers: a probe on a file offset, in every mapping of the file,
 * now and after dlopen(), gone with dlclose() and back at the new address on
 * the next dlopen(); several consumers on one offset; a symlink to the file;
 * the refusals.
 *
 * The shared object is compiled here, at run time, so that it is loaded
 * only when the test says so (the seed's callee(8, 9) as a library).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "probekit.h"
#include "pk_test.h"
#include "sym/sym.h"

static char dir[] = "/tmp/pk_uprobe_XXXXXX";
static char lib[256], link_path[256];
static uint64_t callee_off;

static const char lib_src[] = "int callee(int a, int b) { return a + b; }\n"
			      "int other(int a) { return a * 2; }\n";

static int build_lib(void)
{
	char src[256], cmd[1024];
	FILE *f;

	if (!mkdtemp(dir))
		return -1;
	snprintf(src, sizeof(src), "%s/callee.c", dir);
	snprintf(lib, sizeof(lib), "%s/libcallee.so", dir);
	snprintf(link_path, sizeof(link_path), "%s/libcallee-link.so", dir);
	f = fopen(src, "w");
	if (!f)
		return -1;
	fputs(lib_src, f);
	fclose(f);
	/* -O0 and no endbr64: callee starts with push %rbp; mov %rsp,%rbp. */
	snprintf(cmd, sizeof(cmd), "cc -O0 -fcf-protection=none -shared -fPIC -o %s %s", lib, src);
	if (system(cmd) != 0 || symlink(lib, link_path))
		return -1;
	return pk_sym_file_offset(lib, "callee", &callee_off, NULL);
}

struct rec {
	struct pk_uprobe_consumer uc;
	int hits, rets;
	long arg0, arg1, ret;
	unsigned long func, ip;
	int order;
};

static int order;

static int rec_handler(struct pk_uprobe_consumer *self, struct pk_regs *regs)
{
	struct rec *r = (struct rec *)self;

	r->hits++;
	r->arg0 = (int)pk_regs_get_argument(regs, 0);
	r->arg1 = (int)pk_regs_get_argument(regs, 1);
	r->ip = arch_regs_ip(regs);
	r->order = ++order;
	return 0;
}

static int rec_ret(struct pk_uprobe_consumer *self, unsigned long func, struct pk_regs *regs)
{
	struct rec *r = (struct rec *)self;

	r->rets++;
	r->ret = (int)pk_regs_return_value(regs);
	r->func = func;
	return 0;
}

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->uc.handler = rec_handler;
	r->uc.ret_handler = rec_ret;
}

/* The address range the mappings of @path cover, from /proc/self/maps. */
static void mapped_range(const char *path, uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long s, e;

	*lo = UINTPTR_MAX;
	*hi = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, path) || sscanf(line, "%lx-%lx", &s, &e) != 2)
			continue;
		*lo = s < *lo ? s : *lo;
		*hi = e > *hi ? e : *hi;
	}
	if (f)
		fclose(f);
}

static int probe_listed(uintptr_t addr)
{
	char buf[8192], want[32];

	pk_show_probes(buf, sizeof(buf));
	snprintf(want, sizeof(want), "%lx", (unsigned long)addr);
	return strstr(buf, want) != NULL;
}

static int call_callee(void *h, int a, int b, uintptr_t *at)
{
	int (*fn)(int, int) = (int (*)(int, int))dlsym(h, "callee");

	*at = (uintptr_t)fn;
	return fn ? fn(a, b) : -1;
}

static void test_dlopen_after_register(void)
{
	struct rec r;
	uintptr_t at1, at2, lo, hi;
	void *h, *hold = MAP_FAILED;

	rec_init(&r);
	CHECK_EQ(pk_register_uprobe(lib, callee_off, &r.uc), 0);
	h = dlopen(lib, RTLD_NOW);
	CHECK(h != NULL);
	if (!h)
		return;
	CHECK_EQ(call_callee(h, 8, 9, &at1), 17);
	CHECK_EQ(r.hits, 1);
	CHECK_EQ(r.rets, 1);
	CHECK_EQ(r.arg0, 8);
	CHECK_EQ(r.arg1, 9);
	CHECK_EQ(r.ret, 17);
	CHECK_EQ(r.ip, at1);
	CHECK_EQ(r.func, at1);
	CHECK(probe_listed(at1));
	mapped_range(lib, &lo, &hi);
	dlclose(h);
	/* Unmapped: its probes are gone. */
	CHECK(!probe_listed(at1));

	/* Keep the old place taken so that the object comes back somewhere else. */
	if (lo < hi)
		hold = mmap((void *)lo, hi - lo, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(hold != MAP_FAILED);
	h = dlopen(lib, RTLD_NOW);
	CHECK(h != NULL);
	if (h) {
		CHECK_EQ(call_callee(h, 1, 2, &at2), 3);
		CHECK(at2 != at1);
		CHECK_EQ(r.hits, 2);
		CHECK_EQ(r.rets, 2);
		CHECK_EQ(r.arg0, 1);
		CHECK_EQ(r.ret, 3);
		CHECK_EQ(r.func, at2);
	}
	pk_unregister_uprobe(lib, callee_off, &r.uc);
	if (h) {
		CHECK_EQ(call_callee(h, 1, 2, &at2), 3);
		CHECK_EQ(r.hits, 2);
		dlclose(h);
	}
	if (hold != MAP_FAILED)
		munmap(hold, hi - lo);
}

static void test_two_consumers_and_symlink(void)
{
	struct rec a, b, c;
	uintptr_t at;
	void *h = dlopen(lib, RTLD_NOW);

	CHECK(h != NULL);
	if (!h)
		return;
	rec_init(&a);
	rec_init(&b);
	rec_init(&c);
	c.uc.ret_handler = NULL;
	/* Already mapped: armed at once. Through the symlink: the same file, the same probe. */
	CHECK_EQ(pk_register_uprobe(lib, callee_off, &a.uc), 0);
	CHECK_EQ(pk_register_uprobe(link_path, callee_off, &b.uc), 0);
	CHECK_EQ(pk_register_uprobe(lib, callee_off, &b.uc), -EEXIST);
	CHECK_EQ(pk_register_uprobe(link_path, callee_off, &c.uc), 0);
	order = 0;
	CHECK_EQ(call_callee(h, 8, 9, &at), 17);
	CHECK_EQ(a.hits, 1);
	CHECK_EQ(b.hits, 1);
	CHECK_EQ(c.hits, 1);
	CHECK_EQ(a.order, 1);
	CHECK_EQ(b.order, 2);
	CHECK_EQ(c.order, 3);
	CHECK_EQ(a.ret, 17);
	CHECK_EQ(b.ret, 17);
	CHECK_EQ(c.rets, 0);
	/* One goes (by the other name), the others stay. */
	pk_unregister_uprobe(lib, callee_off, &b.uc);
	CHECK_EQ(call_callee(h, 2, 3, &at), 5);
	CHECK_EQ(a.hits, 2);
	CHECK_EQ(b.hits, 1);
	CHECK_EQ(c.hits, 2);
	pk_unregister_uprobe(lib, callee_off, &a.uc);
	pk_unregister_uprobe(link_path, callee_off, &c.uc);
	CHECK_EQ(call_callee(h, 2, 3, &at), 5);
	CHECK_EQ(a.hits, 2);
	CHECK_EQ(c.hits, 2);
	dlclose(h);
}

/* A function of the test program itself, through /proc/self/exe. */
__attribute__((noipa, noinline, used)) int exe_callee(int a, int b)
{
	return a * b;
}

static void test_main_program(void)
{
	struct pk_sym_info si;
	struct rec r;
	uint64_t off;

	rec_init(&r);
	CHECK_EQ(pk_sym_lookup("exe_callee", &si), 0);
	CHECK_EQ(pk_sym_file_offset("/proc/self/exe", "exe_callee", &off, NULL), 0);
	CHECK_EQ(pk_register_uprobe("/proc/self/exe", off, &r.uc), 0);
	CHECK_EQ(exe_callee(6, 7), 42);
	CHECK_EQ(r.hits, 1);
	CHECK_EQ(r.ret, 42);
	CHECK_EQ(r.func, si.start);
	pk_unregister_uprobe("/proc/self/exe", off, &r.uc);
	CHECK_EQ(exe_callee(6, 7), 42);
	CHECK_EQ(r.hits, 1);
}

static void test_refusals(void)
{
	struct rec r;
	void *h = dlopen(lib, RTLD_NOW);

	rec_init(&r);
	CHECK(h != NULL);
	/* push %rbp (1 byte), then mov %rsp,%rbp (3 bytes): +2 is inside the mov. */
	CHECK_EQ(pk_register_uprobe(lib, callee_off + 2, &r.uc), -EILSEQ);
	/* The ELF header is in a segment that is not executable. */
	CHECK_EQ(pk_register_uprobe(lib, 0, &r.uc), -EFAULT);
	CHECK_EQ(pk_register_uprobe(lib, 1ul << 40, &r.uc), -EFAULT);
	CHECK_EQ(pk_register_uprobe("/no/such/file.so", callee_off, &r.uc), -ENOENT);
	CHECK_EQ(pk_register_uprobe(NULL, callee_off, &r.uc), -EINVAL);
	CHECK_EQ(pk_register_uprobe(lib, callee_off, NULL), -EINVAL);
	r.uc.handler = NULL;
	r.uc.ret_handler = NULL;
	CHECK_EQ(pk_register_uprobe(lib, callee_off, &r.uc), -EINVAL);
	/* A refusal leaves nothing behind: the offset can still be probed. */
	rec_init(&r);
	CHECK_EQ(pk_register_uprobe(lib, callee_off, &r.uc), 0);
	pk_unregister_uprobe(lib, callee_off, &r.uc);
	if (h)
		dlclose(h);
}

int main(void)
{
	char src[300];

	if (build_lib()) {
		printf("FAIL build_lib: cannot compile the test object in %s\n", dir);
		return 1;
	}
	RUN(test_dlopen_after_register);
	RUN(test_two_consumers_and_symlink);
	RUN(test_main_program);
	RUN(test_refusals);
	/*
	 * Not system("rm -rf"): its posix_spawn child shares this memory and
	 * resets the SIGTRAP handler, so an armed engine probe it runs kills it.
	 */
	snprintf(src, sizeof(src), "%s/callee.c", dir);
	unlink(src);
	unlink(link_path);
	unlink(lib);
	rmdir(dir);
	TEST_EXIT();
}
