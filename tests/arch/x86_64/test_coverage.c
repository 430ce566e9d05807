// SPDX-License-Identifier: MIT
/*
 * Coverage of jump optimization on real Debian libraries (issue 9, item 2):
 * the share of function entries and of instruction boundaries inside
 * functions where a probe would take a jump rather than an int3, as
 * pk_opt_check() plans it, with the reasons counted for the rest.
 *
 * pk_opt_check() is a dry run of the planner, so a sample of entries is
 * really registered too: the probe's PK_FLAG_OPTIMIZED must agree with
 * what the dry run said, or every figure here would be fiction.
 *
 * Every boundary is checked, no sampling: the dry run takes a few
 * microseconds, the six libraries' 776,000 boundaries about 3 s (5 s under
 * ASan). make bench runs this same program for its coverage figures.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probekit.h"
#include "pk_test.h"
#include "internal.h"
#include "insn.h"
#include "sym/sym.h"

/* Issue 9's acceptance figures. */
#define BOUNDARY_GOAL 95.0
#define ENTRY_GOAL    99.0
/*
 * The entry figure fails the test, but not under AddressSanitizer: its
 * shadow memory takes much of the address space where puns land, so that
 * build measures a different process, not the planner.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ASSERT_ENTRIES 0
#else
#define ASSERT_ENTRIES 1
#endif

#define SAMPLE	    200	     /* entries really registered per library */
#define SEED	    20261206 /* fixed, so that a failure can be replayed */
#define MAX_REASONS 16

static const char *const libs[] = {
    "libz.so.1",      "libbz2.so.1.0",	      "libgmp.so.10",
    "libcrypto.so.3", "libpython3.11.so.1.0", "libc.so.6",
};
#define NLIBS (sizeof(libs) / sizeof(libs[0]))

struct fn {
	uintptr_t start;
	size_t size;
};

struct reasons {
	const char *why[MAX_REASONS];
	long n[MAX_REASONS];
};

struct cov {
	struct fn *fns;
	long nfns, cap;
	long entries_ok;
	long bounds, bounds_ok, undecodable;
	uintptr_t unexplained; /* the first boundary refused without a reason */
	struct reasons entry_why, bound_why;
	long sampled, agree, refused;
	struct reasons refused_why;
};

static void verdict(int ok, const char *what, const char *lib)
{
	/* pk_test.h's lines, one per library and property, rather than one per function. */
	pk_t_failed_case = !ok;
	printf("%s %s %s\n", ok ? "PASS" : "FAIL", what, lib);
	fflush(stdout);
	pk_t_total_failed += pk_t_failed_case;
}

static void count_reason(struct reasons *r, const char *why)
{
	int i;

	for (i = 0; i < MAX_REASONS && r->why[i]; i++)
		if (!strcmp(r->why[i], why))
			break;
	if (i == MAX_REASONS)
		i--, why = "(other reasons)";
	r->why[i] = why;
	r->n[i]++;
}

static void print_reasons(const char *what, const struct reasons *r)
{
	int i;

	for (i = 0; i < MAX_REASONS && r->why[i]; i++)
		printf("    %s: %ld x %s\n", what, r->n[i], r->why[i]);
}

/* The label of a refusal: the planner's, else the error's (strerror's strings stay put). */
static const char *reason(int err, const char *why)
{
	return why ? why : strerror(-err);
}

static int collect(const struct pk_sym_info *s, void *arg)
{
	struct cov *c = arg;

	if (c->nfns == c->cap) {
		struct fn *g =
		    realloc(c->fns, (size_t)(c->cap = c->cap ? 2 * c->cap : 1024) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		c->fns = g;
	}
	c->fns[c->nfns].start = s->start;
	c->fns[c->nfns++].size = s->size;
	return 0;
}

static int cmp_fn(const void *a, const void *b)
{
	const struct fn *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->size > y->size ? -1 : x->size < y->size;
}

/* One entry per address: .symtab and .dynsym name the same function, aliases too. */
static void dedupe(struct cov *c)
{
	long i, n = 0;

	qsort(c->fns, (size_t)c->nfns, sizeof(*c->fns), cmp_fn);
	for (i = 0; i < c->nfns; i++)
		if (!n || c->fns[n - 1].start != c->fns[i].start)
			c->fns[n++] = c->fns[i];
	c->nfns = n;
}

static void check_entries(struct cov *c)
{
	long i;

	for (i = 0; i < c->nfns; i++) {
		const char *why;
		int err = pk_opt_check(c->fns[i].start, &why);

		if (!err) {
			c->entries_ok++;
		} else {
			count_reason(&c->entry_why, reason(err, why));
			if (getenv("PK_COVERAGE_VERBOSE")) {
				const uint8_t *b = (const uint8_t *)c->fns[i].start;
				char where[128];

				pk_sprint_symbol(where, sizeof(where), (void *)c->fns[i].start);
				printf("    entry int3 at %s: %02x %02x %02x %02x %02x %02x %02x "
				       "%02x\n",
				       where, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
			}
		}
	}
}

static void check_boundaries(struct cov *c)
{
	uintptr_t covered = 0;
	long i;

	for (i = 0; i < c->nfns; i++) {
		const struct fn *f = &c->fns[i];
		uintptr_t pc = f->start, end = f->start + f->size;

		/* A symbol inside another function's bytes (a local label) adds no boundaries. */
		if (f->start < covered)
			continue;
		covered = end;
		while (pc < end) {
			int len = pk_insn_length((const uint8_t *)pc, end - pc);

			if (len <= 0) {
				/* Data or padding that does not decode: the rest of the function.
				 */
				c->undecodable++;
				break;
			}
			const char *why;
			int err = pk_opt_check(pc, &why);

			c->bounds++;
			if (!err) {
				c->bounds_ok++;
			} else {
				if (!why && !c->unexplained)
					c->unexplained = pc;
				count_reason(&c->bound_why, reason(err, why));
			}
			pc += (uintptr_t)len;
		}
	}
}

static int empty_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)p;
	(void)regs;
	return 0;
}

/*
 * Register a real probe at SAMPLE random entries, one at a time, and
 * compare what happened with the dry run's answer just before.
 */
static void check_sample(struct cov *c, const char *lib)
{
	long n = c->nfns < SAMPLE ? c->nfns : SAMPLE, i, shown = 0;
	unsigned short seed[3] = {SEED & 0xffff, SEED >> 16, (unsigned short)c->nfns};

	for (i = 0; i < n; i++) {
		long j = i + nrand48(seed) % (c->nfns - i);
		struct fn t = c->fns[i];
		struct pk_probe p = {.pre_handler = empty_pre};
		const char *why;
		int dry, err, opt, busy;

		c->fns[i] = c->fns[j];
		c->fns[j] = t;
		/* The dry run answers for a probe alone there: the engine's own guards are not. */
		pthread_mutex_lock(&pk_lock);
		busy = pk_site_lookup(c->fns[i].start) != NULL;
		pthread_mutex_unlock(&pk_lock);
		if (busy) {
			count_reason(&c->refused_why, "already probed (the engine's own guards)");
			c->refused++;
			continue;
		}
		dry = pk_opt_check(c->fns[i].start, &why);
		p.addr = (void *)c->fns[i].start;
		err = pk_register_probe(&p);
		if (err) {
			count_reason(&c->refused_why, strerror(-err));
			c->refused++;
			continue;
		}
		opt = !!(p.flags & PK_FLAG_OPTIMIZED);
		pk_unregister_probe(&p);
		c->sampled++;
		if (opt == !dry) {
			c->agree++;
		} else if (shown++ < 5) {
			char name[256];

			pk_sprint_symbol(name, sizeof(name), (void *)c->fns[i].start);
			printf("  %s: %s: dry run %s (%s), registered %s\n", lib, name,
			       dry ? "int3" : "jump", why ? why : "-", opt ? "jump" : "int3");
		}
	}
}

static double pct(long a, long b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void run_lib(const char *lib, long *tot)
{
	struct cov c = {0};
	struct timespec t0, t1;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!dlopen(lib, RTLD_NOW | RTLD_LOCAL)) {
		printf("  %s: %s (scripts/deps.sh installs it)\n", lib, dlerror());
		verdict(0, "coverage_loaded", lib);
		return;
	}
	err = pk_sym_foreach(lib, collect, &c);
	if (err || !c.nfns) {
		printf("  %s: no function symbols (%s)\n", lib, err ? strerror(-err) : "empty");
		verdict(0, "coverage_loaded", lib);
		free(c.fns);
		return;
	}
	dedupe(&c);
	check_entries(&c);
	check_boundaries(&c);
	check_sample(&c, lib);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	printf("%-22s entries %6ld/%-6ld %6.2f%%  boundaries %7ld/%-7ld %6.2f%%  sample %ld/%ld "
	       "agree  %.1f s\n",
	       lib, c.entries_ok, c.nfns, pct(c.entries_ok, c.nfns), c.bounds_ok, c.bounds,
	       pct(c.bounds_ok, c.bounds), c.agree, c.sampled,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	print_reasons("entry int3", &c.entry_why);
	print_reasons("boundary int3", &c.bound_why);
	if (c.unexplained) {
		char name[256];

		pk_sprint_symbol(name, sizeof(name), (void *)c.unexplained);
		printf("    first boundary refused without a reason: %s\n", name);
	}
	if (c.undecodable)
		printf("    %ld functions end in bytes that do not decode (not counted)\n",
		       c.undecodable);
	if (c.refused) {
		printf("    sample: %ld entries skipped (not counted)\n", c.refused);
		print_reasons("skipped", &c.refused_why);
	}
	tot[0] += c.entries_ok;
	tot[1] += c.nfns;
	tot[2] += c.bounds_ok;
	tot[3] += c.bounds;

	verdict(pct(c.bounds_ok, c.bounds) >= BOUNDARY_GOAL, "coverage_boundaries", lib);
	if (ASSERT_ENTRIES)
		verdict(pct(c.entries_ok, c.nfns) >= ENTRY_GOAL, "coverage_entries", lib);
	else if (pct(c.entries_ok, c.nfns) < ENTRY_GOAL)
		printf("  note: %s entries %.2f%% < %.0f%% goal (not asserted under "
		       "AddressSanitizer, whose shadow takes the address space)\n",
		       lib, pct(c.entries_ok, c.nfns), ENTRY_GOAL);
	verdict(c.sampled > 0 && c.agree == c.sampled, "coverage_dry_run_agrees", lib);
	free(c.fns);
}

int main(void)
{
	long tot[4] = {0};
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The int3 pass of make check: registered probes then never take a jump to compare. */
	if (getenv("PK_OPTIMIZE") && !strcmp(getenv("PK_OPTIMIZE"), "0")) {
		printf("SKIP coverage: jump optimization is off in the environment\n");
		return 0;
	}
	printf("jump-optimization coverage (pk_opt_check), goals: entries >= %.0f%%, "
	       "boundaries >= %.0f%%\n",
	       ENTRY_GOAL, BOUNDARY_GOAL);
	printf("every boundary checked; %d random entries per library really registered\n", SAMPLE);
	for (i = 0; i < NLIBS; i++)
		run_lib(libs[i], tot);
	printf("%-22s entries %6ld/%-6ld %6.2f%%  boundaries %7ld/%-7ld %6.2f%%\n", "all", tot[0],
	       tot[1], pct(tot[0], tot[1]), tot[2], tot[3], pct(tot[2], tot[3]));
	TEST_EXIT();
}
