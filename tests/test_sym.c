/* SPDX-License-Identifier: MIT */
/*
 * The symbol layer against what the dynamic loader itself says: every
 * address pk_sym_lookup() gives must be the one dlsym() gives.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <zlib.h>

#include "pk_test.h"
#include "test_abi.h"
#include "sym/sym.h"

/* Global and exported (-rdynamic), so it is in .dynsym as well as .symtab. */
__attribute__((noinline)) int pk_test_sym_target(int x)
{
	volatile int acc = 0;
	int i;

	for (i = 0; i < x; i++)
		acc += i * x;
	return acc;
}

/* Only in .symtab; noipa keeps gcc from renaming it to a .constprop clone. */
static __attribute__((noipa)) int pk_test_sym_static(int x)
{
	volatile int acc = x;

	return acc * 3 + 1;
}

/* An assembly function without .size: its symbol has size 0. */
__asm__(".text\n" /* arch-lint: allow: nop and ret assemble on x86-64 and arm64 */
	".globl pk_test_sym_nosize\n"
	".type pk_test_sym_nosize, @function\n"
	"pk_test_sym_nosize:\n"
	"	nop; nop; nop; nop; nop; nop; nop; nop\n"
	"	ret\n");
void pk_test_sym_nosize(void);

static uintptr_t dl_addr(void *handle, const char *name)
{
	return (uintptr_t)dlsym(handle, name);
}

static void test_find_before_snapshot(void)
{
	struct pk_sym_info info;

	CHECK_EQ(pk_sym_find((uintptr_t)&pk_test_sym_target, &info), -ENOENT);
	CHECK_EQ(pk_sym_refresh(), 0);
	CHECK_EQ(pk_sym_find((uintptr_t)&pk_test_sym_target, &info), 0);
}

static void test_lookup_exe(void)
{
	struct pk_sym_info info;

	CHECK_EQ(pk_sym_lookup("pk_test_sym_target", &info), 0);
	CHECK_EQ(info.start, (uintptr_t)&pk_test_sym_target);
	CHECK(info.size > 0);
	CHECK_STR(info.name, "pk_test_sym_target");
	CHECK_EQ(info.is_exe, 1);
	CHECK(info.path && info.path[0] == '/');

	CHECK_EQ(pk_sym_lookup("pk_test_sym_static", &info), 0);
	CHECK_EQ(info.start, (uintptr_t)&pk_test_sym_static);
	CHECK(info.size > 0);
	CHECK_EQ(info.is_exe, 1);
}

static void test_lookup_deflate(void)
{
	uintptr_t want = dl_addr(RTLD_DEFAULT, "deflate");
	struct pk_sym_info info;

	CHECK(want != 0);
	CHECK_EQ(pk_sym_lookup("libz.so.1:deflate", &info), 0);
	CHECK_EQ(info.start, want);
	CHECK(info.size > 0);
	CHECK_STR(info.name, "deflate");
	CHECK_EQ(info.is_exe, 0);
	CHECK(info.object && !strncmp(info.object, "libz.so", 7));

	memset(&info, 0, sizeof(info));
	CHECK_EQ(pk_sym_lookup("libz:deflate", &info), 0);
	CHECK_EQ(info.start, want);

	memset(&info, 0, sizeof(info));
	CHECK_EQ(pk_sym_lookup("deflate", &info), 0);
	CHECK_EQ(info.start, want);

	memset(&info, 0, sizeof(info));
	CHECK_EQ(pk_sym_lookup("libz.so.1:inflate", &info), 0);
	CHECK_EQ(info.start, dl_addr(RTLD_DEFAULT, "inflate"));
}

static void test_lookup_errors(void)
{
	struct pk_sym_info info;

	CHECK_EQ(pk_sym_lookup("no_such_function_xyz", &info), -ENOENT);
	CHECK_EQ(pk_sym_lookup("nosuchlib:deflate", &info), -ENOENT);
	CHECK_EQ(pk_sym_lookup("libz:no_such_function_xyz", &info), -ENOENT);
	CHECK_EQ(pk_sym_lookup("", &info), -EINVAL);
	CHECK_EQ(pk_sym_lookup("libz:", &info), -EINVAL);
	CHECK_EQ(pk_sym_lookup(":deflate", &info), -EINVAL);
	CHECK_EQ(pk_sym_lookup(NULL, &info), -EINVAL);
	CHECK_EQ(pk_sym_lookup("deflate", NULL), -EINVAL);
}

/*
 * strlen is an IFUNC in libc: the symbol is the resolver, the program's
 * calls reach the implementation the resolver picked for this CPU.
 */
static void test_lookup_ifunc(void)
{
	size_t (*fn)(const char *);
	struct pk_sym_info info;
	void *libc;

	CHECK_EQ(pk_sym_lookup("strlen", &info), 0);
	CHECK_EQ(info.start, dl_addr(RTLD_DEFAULT, "strlen"));
	fn = (size_t(*)(const char *))info.start;
	CHECK_EQ(fn("probekit"), 8);

	/* Under ASan the bare name is its interceptor; libc's own is IFUNC. */
	libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	CHECK(libc != NULL);
	if (!libc)
		return;
	CHECK_EQ(pk_sym_lookup("libc.so.6:strlen", &info), 0);
	CHECK_EQ(info.start, dl_addr(libc, "strlen"));
	CHECK(info.name != NULL);
	fn = (size_t(*)(const char *))info.start;
	CHECK_EQ(fn("kprobes"), 7);
	/* A size means a symbol (libc6-dbg's __strlen_avx2...) covers it. */
	if (info.size)
		CHECK(!strncmp(info.name, "__strlen_", 9));
	else
		CHECK_STR(info.name, "strlen");
	dlclose(libc);
}

static void test_sprint_deflate(void)
{
	uintptr_t addr = dl_addr(RTLD_DEFAULT, "deflate");
	struct pk_sym_info info;
	char buf[256], want[256];
	int n;

	CHECK_EQ(pk_sym_lookup("libz.so.1:deflate", &info), 0);
	snprintf(want, sizeof(want), "deflate+0x10/0x%zx [%s]", info.size, info.object);
	n = pk_sym_sprint(buf, sizeof(buf), addr + 0x10);
	CHECK_STR(buf, want);
	CHECK_EQ(n, strlen(want));
	CHECK(!strcmp(info.object, "libz.so.1") || !strncmp(info.object, "libz.so.1.", 10));

	pk_sym_sprint(buf, sizeof(buf), addr);
	snprintf(want, sizeof(want), "deflate+0x0/0x%zx [%s]", info.size, info.object);
	CHECK_STR(buf, want);
}

static void test_sprint_exe(void)
{
	uintptr_t addr = (uintptr_t)&pk_test_sym_target + 3;
	struct pk_sym_info info;
	char buf[256], want[256];

	CHECK_EQ(pk_sym_lookup("pk_test_sym_target", &info), 0);
	snprintf(want, sizeof(want), "pk_test_sym_target+0x3/0x%zx", info.size);
	pk_sym_sprint(buf, sizeof(buf), addr);
	CHECK_STR(buf, want);
	CHECK(!strchr(buf, '['));
}

static void test_sprint_unknown(void)
{
	char buf[64];
	int n;

	n = pk_sym_sprint(buf, sizeof(buf), 0x1000);
	CHECK_STR(buf, "0x1000");
	CHECK_EQ(n, 6);
	n = pk_sym_sprint(buf, sizeof(buf), 0);
	CHECK_STR(buf, "0x0");
	CHECK_EQ(n, 3);
	n = pk_sym_sprint(buf, sizeof(buf), 0x7f12abcd0000);
	CHECK_STR(buf, "0x7f12abcd0000");
	CHECK_EQ(n, 14);
}

static void test_sprint_truncation(void)
{
	uintptr_t addr = dl_addr(RTLD_DEFAULT, "deflate") + 0x10;
	char full[256], small[8];
	int n;

	n = pk_sym_sprint(full, sizeof(full), addr);
	CHECK(n > (int)sizeof(small));
	memset(small, 'X', sizeof(small));
	CHECK_EQ(pk_sym_sprint(small, sizeof(small), addr), n);
	CHECK_EQ(small[sizeof(small) - 1], '\0');
	CHECK(!strncmp(small, full, sizeof(small) - 1));

	small[0] = 'X';
	CHECK_EQ(pk_sym_sprint(small, 1, addr), n);
	CHECK_EQ(small[0], '\0');
	CHECK_EQ(pk_sym_sprint(NULL, 0, addr), n);
	CHECK_EQ(pk_sym_sprint(small, 3, 0x1000), 6);
	CHECK_STR(small, "0x");
}

/* libm is not linked in (nothing uses it), so this exercises a rescan. */
static void test_dlopen_refresh(void)
{
	struct pk_sym_info info;
	void *h = dlopen("libm.so.6", RTLD_LAZY | RTLD_NOLOAD);
	int was_loaded = h != NULL;

	if (h)
		dlclose(h);
	if (!was_loaded)
		CHECK_EQ(pk_sym_lookup("libm.so.6:cos", &info), -ENOENT);
	h = dlopen("libm.so.6", RTLD_NOW);
	CHECK(h != NULL);
	if (!h)
		return;
	CHECK_EQ(pk_sym_lookup("libm.so.6:cos", &info), 0);
	CHECK_EQ(info.start, dl_addr(h, "cos"));
	CHECK_EQ(((double (*)(double))info.start)(0.0), 1.0);
	CHECK_EQ(pk_sym_lookup("libm:sin", &info), 0);
	CHECK_EQ(info.start, dl_addr(h, "sin"));
	/* Kept open: pk_sym_find results for it are checked later. */
}

static void test_find(void)
{
	uintptr_t fn = (uintptr_t)&pk_test_sym_target;
	uintptr_t defl = dl_addr(RTLD_DEFAULT, "deflate");
	struct pk_sym_info info, ref;

	CHECK_EQ(pk_sym_lookup("pk_test_sym_target", &ref), 0);
	CHECK_EQ(pk_sym_find(fn + 5, &info), 0);
	CHECK_EQ(info.start, fn);
	CHECK_EQ(info.size, ref.size);
	CHECK_STR(info.name, "pk_test_sym_target");
	CHECK_EQ(info.is_exe, 1);
	CHECK_EQ(pk_sym_find(fn, &info), 0);
	CHECK_EQ(info.start, fn);
	CHECK_EQ(pk_sym_find(fn + ref.size - 1, &info), 0);
	CHECK_EQ(info.start, fn);

	CHECK_EQ(pk_sym_lookup("libz:deflate", &ref), 0);
	CHECK_EQ(pk_sym_find(defl + ref.size / 2, &info), 0);
	CHECK_EQ(info.start, defl);
	CHECK_STR(info.name, "deflate");
	CHECK_STR(info.object, ref.object);
	CHECK_STR(info.path, ref.path);
	CHECK_EQ(info.is_exe, 0);

	CHECK_EQ(pk_sym_find(0x1000, &info), -ENOENT);
	CHECK_EQ(pk_sym_find((uintptr_t)&info, &info), -ENOENT);
	CHECK_EQ(pk_sym_find(0, NULL), -ENOENT);
}

static void test_sizeless(void)
{
	uintptr_t fn = (uintptr_t)&pk_test_sym_nosize;
	struct pk_sym_info info;
	char buf[128];

	CHECK_EQ(pk_sym_lookup("pk_test_sym_nosize", &info), 0);
	CHECK_EQ(info.start, fn);
	CHECK_EQ(info.size, 0);
	CHECK_EQ(pk_sym_find(fn + 6, &info), 0);
	CHECK_EQ(info.start, fn);
	CHECK_EQ(info.size, 0);
	CHECK_STR(info.name, "pk_test_sym_nosize");
	pk_sym_sprint(buf, sizeof(buf), fn + 0x6);
	CHECK_STR(buf, "pk_test_sym_nosize+0x6/0x0");
}

/*
 * Where glibc has two memcpy versions (x86-64: @@GLIBC_2.14 and an older
 * one, test_abi.h), they differ; the default one wins.
 */
#ifndef PK_TEST_MEMCPY_OLD_VERSION
static void test_lookup_versioned(void)
{
	printf("  this architecture's glibc has one memcpy\n");
}
#else
static void test_lookup_versioned(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	struct pk_sym_info info;
	uintptr_t old;

	CHECK(libc != NULL);
	if (!libc)
		return;
	old = (uintptr_t)dlvsym(libc, "memcpy", PK_TEST_MEMCPY_OLD_VERSION);
	CHECK_EQ(pk_sym_lookup("libc.so.6:memcpy", &info), 0);
	CHECK_EQ(info.start, dl_addr(libc, "memcpy"));
	CHECK(old != 0 && info.start != old);
	CHECK_EQ(pk_sym_find(old, &info), 0);
	CHECK_EQ(info.start, old);
	dlclose(libc);
}
#endif

static void test_vdso(void)
{
	struct pk_sym_info info, found;

	if (!getauxval(AT_SYSINFO_EHDR))
		return;
	CHECK_EQ(pk_sym_lookup("linux-vdso.so.1:__vdso_clock_gettime", &info), 0);
	CHECK_STR(info.object, "linux-vdso.so.1");
	CHECK(info.size > 0);
	CHECK_EQ(pk_sym_find(info.start + 1, &found), 0);
	CHECK_EQ(found.start, info.start);
	CHECK_STR(found.object, "linux-vdso.so.1");
	/* A bare name means libc's wrapper, not the vDSO's weak alias. */
	CHECK_EQ(pk_sym_lookup("clock_gettime", &info), 0);
	CHECK_EQ(info.start, dl_addr(RTLD_DEFAULT, "clock_gettime"));
}

struct visit {
	uintptr_t last;
	int count;
	int ordered;
	int sized;
	uintptr_t deflate;
	uintptr_t inflate;
	const char *object;
};

static int visit_fn(const struct pk_sym_info *info, void *arg)
{
	struct visit *v = arg;

	if (info->start < v->last)
		v->ordered = 0;
	if (!info->size)
		v->sized = 0;
	v->last = info->start;
	v->count++;
	v->object = info->object;
	if (!strcmp(info->name, "deflate"))
		v->deflate = info->start;
	if (!strcmp(info->name, "inflate"))
		v->inflate = info->start;
	return 0;
}

static int stop_fn(const struct pk_sym_info *info, void *arg)
{
	(void)info;
	return ++*(int *)arg == 3 ? 42 : 0;
}

static void test_foreach(void)
{
	struct visit v = {.ordered = 1, .sized = 1};
	int calls = 0;

	CHECK_EQ(pk_sym_foreach("libz", visit_fn, &v), 0);
	CHECK(v.count > 10);
	CHECK(v.ordered);
	CHECK(v.sized);
	CHECK_EQ(v.deflate, dl_addr(RTLD_DEFAULT, "deflate"));
	CHECK_EQ(v.inflate, dl_addr(RTLD_DEFAULT, "inflate"));
	CHECK(v.object && !strncmp(v.object, "libz.so", 7));

	CHECK_EQ(pk_sym_foreach("libz.so.1", stop_fn, &calls), 42);
	CHECK_EQ(calls, 3);
	CHECK_EQ(pk_sym_foreach("nosuchlib", visit_fn, &v), -ENOENT);
}

static volatile sig_atomic_t handler_ok;

static void on_usr1(int sig)
{
	char buf[128];
	struct pk_sym_info info;

	(void)sig;
	if (pk_sym_find((uintptr_t)&pk_test_sym_target + 1, &info) == 0 &&
	    pk_sym_sprint(buf, sizeof(buf), (uintptr_t)&pk_test_sym_target + 1) > 0 &&
	    !strncmp(buf, "pk_test_sym_target+0x1/", 23))
		handler_ok = 1;
}

static void test_signal_handler(void)
{
	struct sigaction sa = {.sa_handler = on_usr1};

	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	handler_ok = 0;
	raise(SIGUSR1);
	CHECK_EQ(handler_ok, 1);
	signal(SIGUSR1, SIG_DFL);
}

static volatile int reader_stop;

static void *reader(void *arg)
{
	uintptr_t addr = (uintptr_t)arg;
	struct pk_sym_info info;
	char buf[128];
	long bad = 0;

	while (!__atomic_load_n(&reader_stop, __ATOMIC_ACQUIRE)) {
		if (pk_sym_find(addr, &info) || info.start != addr - 4)
			bad++;
		pk_sym_sprint(buf, sizeof(buf), addr);
	}
	return (void *)bad;
}

/* Readers keep going while the snapshot is replaced under them. */
static void test_concurrent_refresh(void)
{
	const char *libs[] = {"librt.so.1", "libdl.so.2", "libpthread.so.0", "libutil.so.1"};
	uintptr_t defl = dl_addr(RTLD_DEFAULT, "deflate");
	struct pk_sym_info info;
	pthread_t t;
	void *bad = NULL;
	size_t i;

	CHECK_EQ(pk_sym_refresh(), 0);
	CHECK_EQ(pthread_create(&t, NULL, reader, (void *)(defl + 4)), 0);
	for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		void *h = dlopen(libs[i], RTLD_NOW);

		CHECK_EQ(pk_sym_lookup("libz:deflate", &info), 0);
		if (h)
			dlclose(h);
		CHECK_EQ(pk_sym_refresh(), 0);
	}
	__atomic_store_n(&reader_stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, &bad);
	CHECK(bad == NULL);
}

long sym_test_data[2] = {5, 6};

/* Data objects are found by name (for @SYM fetch arguments) and printed like %pS. */
static void test_data_symbol(void)
{
	struct pk_sym_info si;
	char buf[128];

	CHECK_EQ(pk_sym_lookup("sym_test_data", &si), 0);
	CHECK(si.start == (uintptr_t)sym_test_data);
	CHECK_EQ(si.size, sizeof(sym_test_data));
	pk_sym_sprint(buf, sizeof(buf), (uintptr_t)sym_test_data + 8);
	CHECK_STR(buf, "sym_test_data+0x8/0x10");
}

/* @n bytes at @off of the file @path equal to those at @mem. */
static int file_bytes_equal(const char *path, uint64_t off, const void *mem, size_t n)
{
	unsigned char buf[16];
	FILE *f = fopen(path, "rb");
	int ok;

	if (!f)
		return 0;
	ok = !fseek(f, (long)off, SEEK_SET) && fread(buf, 1, n, f) == n && !memcmp(buf, mem, n);
	fclose(f);
	return ok;
}

/*
 * PATH:SYM to a file offset, as uprobe_events takes it: the bytes found at
 * that offset of the file are the function's code as it is mapped here.
 */
static void test_file_offset(void)
{
	Dl_info di;
	uint64_t off = 0;
	size_t size = 0;
	void *p;

	CHECK_EQ(pk_sym_file_offset("/proc/self/exe", "pk_test_sym_static", &off, &size), 0);
	CHECK(size > 0);
	CHECK(file_bytes_equal("/proc/self/exe", off, (void *)pk_test_sym_static, 16));
	CHECK_EQ(pk_sym_file_offset("/proc/self/exe", "pk_test_sym_target", &off, NULL), 0);
	CHECK(file_bytes_equal("/proc/self/exe", off, (void *)pk_test_sym_target, 16));

	/* A shared object, mapped at another address than its own. */
	p = dlsym(RTLD_DEFAULT, "deflate");
	CHECK(p && dladdr(p, &di) && di.dli_fname);
	if (p && di.dli_fname && di.dli_fname[0] == '/') {
		CHECK_EQ(pk_sym_file_offset(di.dli_fname, "deflate", &off, &size), 0);
		CHECK(size > 0);
		CHECK(file_bytes_equal(di.dli_fname, off, p, 16));
	}

	CHECK_EQ(pk_sym_file_offset("/proc/self/exe", "no_such_function_xyz", &off, NULL), -ENOENT);
	CHECK_EQ(pk_sym_file_offset("/proc/self/exe", "sym_test_data", &off, NULL), -ENOENT);
	CHECK_EQ(pk_sym_file_offset("/no/such/file", "main", &off, NULL), -ENOENT);
	CHECK_EQ(pk_sym_file_offset("/proc/self/exe", "", &off, NULL), -EINVAL);
	CHECK_EQ(pk_sym_file_offset("/etc/passwd", "main", &off, NULL), -ENOEXEC);
	p = dlsym(RTLD_DEFAULT, "getpid");
	if (p && dladdr(p, &di) && di.dli_fname && di.dli_fname[0] == '/')
		CHECK_EQ(pk_sym_file_offset(di.dli_fname, "strlen", &off, NULL), -EOPNOTSUPP);
}

int main(void)
{
	z_stream zs;

	/* Makes libz a real dependency (the linker drops unused ones). */
	memset(&zs, 0, sizeof(zs));
	if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) == Z_OK)
		deflateEnd(&zs);
	if (pk_test_sym_static(1) != 4 || pk_test_sym_target(0) != 0)
		return 1;

	RUN(test_find_before_snapshot);
	RUN(test_lookup_exe);
	RUN(test_lookup_deflate);
	RUN(test_lookup_errors);
	RUN(test_lookup_ifunc);
	RUN(test_lookup_versioned);
	RUN(test_sprint_deflate);
	RUN(test_sprint_exe);
	RUN(test_sprint_unknown);
	RUN(test_sprint_truncation);
	RUN(test_dlopen_refresh);
	RUN(test_find);
	RUN(test_sizeless);
	RUN(test_vdso);
	RUN(test_foreach);
	RUN(test_signal_handler);
	RUN(test_concurrent_refresh);
	RUN(test_data_symbol);
	RUN(test_file_offset);
	TEST_EXIT();
}
