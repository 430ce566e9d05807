// SPDX-License-Identifier: MIT
/*
 * The scale rows of `make bench` (issue 9, item 5): how long
 * pk_register_probes() and pk_unregister_probes() take for 1,000 and
 * 10,000 probes, one per function entry of a large library, while threads
 * call through that library the whole time.
 *
 * Libraries: libcrypto.so.3 (about 5,400 functions, all exported; the
 * workers hash with SHA256(), which runs through EVP's exported functions)
 * and libLLVM-14.so.1 (about 30,000, the only one here with 10,000; the
 * workers create and dispose of a context and a module through the C API).
 * The probes are spread evenly over the library's entries, so the workers
 * hit some of them; a probe's handler counts hits.
 *
 * A batch registration fails whole if one probe cannot be registered: if
 * the first batch fails, the candidates are registered one at a time and
 * only those that could be take part in the timed batches. Medians of up to
 * REPS batches, fewer when they are slow (BUDGET_MS). Prints
 * "scale|LIB|N|..." lines for run.sh; never fails on a figure, exits
 * non-zero only if nothing could be measured.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probekit.h"
#include "bench.h"
#include "sym/sym.h"

#define REPS	  5
#define BUDGET_MS 10000.0
#define WORKERS	  2

struct lib {
	const char *name;
	const char *soname;
	int (*setup)(void *h);
	void (*work)(void);
};

static uintptr_t *entries;
static long nentries, capentries;
static unsigned long hits;
static unsigned long calls;
static volatile int stop;

/* libcrypto: unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md). */
static unsigned char *(*sha256)(const unsigned char *, size_t, unsigned char *);

static int crypto_setup(void *h)
{
	*(void **)&sha256 = dlsym(h, "SHA256");
	return sha256 ? 0 : -1;
}

static void crypto_work(void)
{
	static const unsigned char msg[64] = "probekit";
	unsigned char md[32];

	sha256(msg, sizeof(msg), md);
}

/* libLLVM's C API, declared here: the headers are in a -dev package we need not install. */
static void *(*llvm_context_create)(void);
static void *(*llvm_module_create)(const char *, void *);
static void (*llvm_module_dispose)(void *);
static void (*llvm_context_dispose)(void *);

static int llvm_setup(void *h)
{
	*(void **)&llvm_context_create = dlsym(h, "LLVMContextCreate");
	*(void **)&llvm_module_create = dlsym(h, "LLVMModuleCreateWithNameInContext");
	*(void **)&llvm_module_dispose = dlsym(h, "LLVMDisposeModule");
	*(void **)&llvm_context_dispose = dlsym(h, "LLVMContextDispose");
	return llvm_context_create && llvm_module_create && llvm_module_dispose &&
		       llvm_context_dispose
		   ? 0
		   : -1;
}

static void llvm_work(void)
{
	void *ctx = llvm_context_create();

	llvm_module_dispose(llvm_module_create("probekit", ctx));
	llvm_context_dispose(ctx);
}

static const struct lib libs[] = {
    {"libcrypto.so.3", "libcrypto.so.3", crypto_setup, crypto_work},
    {"libLLVM-14.so.1", "libLLVM-14.so.1", llvm_setup, llvm_work},
};

static const struct lib *cur;

static void *worker(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		cur->work();
		__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int count_hit(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	(void)regs;
	__atomic_fetch_add(&hits, 1, __ATOMIC_RELAXED);
	return 0;
}

static int collect(const struct pk_sym_info *s, void *arg)
{
	(void)arg;
	if (nentries == capentries) {
		uintptr_t *g =
		    realloc(entries,
			    (size_t)(capentries = capentries ? 2 * capentries : 4096) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		entries = g;
	}
	entries[nentries++] = s->start;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Keep in @ok those of @pv that can be registered alone; returns how many. */
static long registrable(struct pk_probe *pv, long want, struct pk_probe **ok, long *refused)
{
	long i, n = 0;

	for (i = 0; i < want; i++) {
		if (pk_register_probe(&pv[i]))
			++*refused;
		else
			ok[n++] = &pv[i];
	}
	pk_unregister_probes(ok, (int)n);
	return n;
}

/* @want probes spread evenly over the entries. Prints one scale line. Returns 0 if it measured. */
static int measure(const char *lib, long want)
{
	struct pk_probe *pv = calloc((size_t)want, sizeof(*pv));
	struct pk_probe **ok = calloc((size_t)want, sizeof(*ok));
	double reg[REPS], unreg[REPS], t0, spent = 0;
	unsigned long h0 = __atomic_load_n(&hits, __ATOMIC_RELAXED);
	unsigned long c0 = __atomic_load_n(&calls, __ATOMIC_RELAXED);
	long i, n = want, optimized = 0, refused = 0;
	int r = 0, err = 0;

	if (!pv || !ok) {
		free(pv);
		free(ok);
		return -1;
	}
	for (i = 0; i < want; i++) {
		pv[i].addr = (void *)entries[(size_t)(i * nentries / want)];
		pv[i].pre_handler = count_hit;
		ok[i] = &pv[i];
	}
	while (r < REPS && (r < 1 || spent < BUDGET_MS)) {
		t0 = now_ms();
		err = pk_register_probes(ok, (int)n);
		reg[r] = now_ms() - t0;
		if (err && !r && !refused) {
			n = registrable(pv, want, ok, &refused);
			continue;
		}
		if (err)
			break;
		if (!r)
			for (i = 0; i < n; i++)
				optimized += !!(ok[i]->flags & PK_FLAG_OPTIMIZED);
		t0 = now_ms();
		pk_unregister_probes(ok, (int)n);
		unreg[r] = now_ms() - t0;
		spent += reg[r] + unreg[r];
		r++;
	}
	if (err)
		printf("scale|%s|%ld|-|-|-|-|-|n/a: pk_register_probes: %s\n", lib, n,
		       strerror(-err));
	else
		printf("scale|%s|%ld|%.1f|%.1f|%.1f|%.1f|%d|%ld optimized, %ld refused alone; %lu "
		       "hits during %lu worker calls\n",
		       lib, n, bench_median(reg, r), bench_median(unreg, r), reg[0], unreg[0], r,
		       optimized, refused, __atomic_load_n(&hits, __ATOMIC_RELAXED) - h0,
		       __atomic_load_n(&calls, __ATOMIC_RELAXED) - c0);
	free(ok);
	free(pv);
	return err;
}

static int run_lib(const struct lib *l, const long *counts, int ncounts)
{
	pthread_t th[WORKERS];
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	long i, n = 0;
	int k, measured = 0;

	if (!h || l->setup(h)) {
		printf("scale|%s|-|-|-|-|-|-|n/a: %s\n", l->name,
		       h ? "no workload symbols" : dlerror());
		return 0;
	}
	nentries = 0;
	if (pk_sym_foreach(l->soname, collect, NULL) || !nentries) {
		printf("scale|%s|-|-|-|-|-|-|n/a: no function symbols\n", l->name);
		return 0;
	}
	/* One probe per address: .symtab and .dynsym name the same function, aliases too. */
	qsort(entries, (size_t)nentries, sizeof(*entries), cmp_addr);
	for (i = 0; i < nentries; i++)
		if (!n || entries[n - 1] != entries[i])
			entries[n++] = entries[i];
	nentries = n;
	cur = l;
	stop = 0;
	for (k = 0; k < WORKERS; k++)
		pthread_create(&th[k], NULL, worker, NULL);
	for (k = 0; k < ncounts; k++) {
		long want = counts[k] < 0 || counts[k] > nentries ? nentries : counts[k];

		if (counts[k] > nentries) {
			printf("scale|%s|%ld|-|-|-|-|-|n/a: the library has %ld functions\n",
			       l->name, counts[k], nentries);
			continue;
		}
		measured += !measure(l->name, want);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (k = 0; k < WORKERS; k++)
		pthread_join(th[k], NULL);
	return measured;
}

int main(void)
{
	/* -1: every function of the library (issue 9: every exported one of libcrypto). */
	static const long crypto_counts[] = {1000, -1};
	static const long llvm_counts[] = {1000, 10000};
	int measured = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	measured += run_lib(&libs[0], crypto_counts, 2);
	measured += run_lib(&libs[1], llvm_counts, 2);
	return measured ? 0 : 1;
}
