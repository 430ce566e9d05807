// SPDX-License-Identifier: MIT
/*
 * Instruction boundaries at scale and where no sized symbol says where code
 * starts: every boundary of one function of 32,000 instructions registered
 * in one batch and one by one within a time bound, run with all of them in
 * place; and the PLT of this program (.plt+0, every entry, the inside of its
 * instructions) probed by address.
 *
 * `test_boundary --bench [N,...]` prints the registration time of the first
 * N boundaries of t_big, batch and one by one, instead of testing.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "pk_test.h"
#include "probekit.h"

/* tests/arch/x86_64/asm/big_func.S */
long t_big(long seed);
extern const uint32_t t_big_off[];
extern const uint8_t t_big_hits[];
extern const uint32_t t_big_count;
/* tests/arch/x86_64/asm/boundary_targets.S */
long t_rewrite(long a);
extern char t_rewrite_nops[];
extern char *const t_gap_code;

/* Sanitizers slow registration down several times; the bounds are for plain builds. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLOWDOWN 4
#else
#define SLOWDOWN 1
#endif

struct bp {
	struct pk_probe kp;
	unsigned long hits;
};

static int count_pre(struct pk_probe *p, struct pk_regs *regs)
{
	(void)regs;
	((struct bp *)p)->hits++;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct bp *big_probes(unsigned int n, struct pk_probe ***list)
{
	struct bp *v = calloc(n, sizeof(*v));
	unsigned int i;

	*list = calloc(n, sizeof(**list));
	if (!v || !*list)
		abort();
	for (i = 0; i < n; i++) {
		v[i].kp.addr = (char *)(void *)t_big + t_big_off[i];
		v[i].kp.pre_handler = count_pre;
		(*list)[i] = &v[i].kp;
	}
	return v;
}

/* Registers the first @n boundaries; returns the seconds it took, or -1. */
static double register_big(struct pk_probe **list, unsigned int n, int batch)
{
	double t0 = now();
	unsigned int i;

	if (batch) {
		int err = pk_register_probes(list, (int)n);

		CHECK_EQ(err, 0);
		return err ? -1 : now() - t0;
	}
	for (i = 0; i < n; i++) {
		int err = pk_register_probe(list[i]);

		if (err) {
			printf("  boundary %u (t_big+0x%x): %d\n", i, t_big_off[i], err);
			CHECK_EQ(err, 0);
			pk_unregister_probes(list, (int)i);
			return -1;
		}
	}
	return now() - t0;
}

/* One byte into every instruction longer than one: each refused, as cheaply as accepted. */
static void refuse_inside(struct pk_probe **list, unsigned int n)
{
	struct bp b;
	unsigned int i, tried = 0, refused = 0;
	double t0 = now(), t;
	int err;

	for (i = 0; i + 1 < n; i++) {
		if (t_big_off[i + 1] - t_big_off[i] < 2)
			continue;
		memset(&b, 0, sizeof(b));
		b.kp.addr = (char *)list[i]->addr + 1;
		b.kp.pre_handler = count_pre;
		tried++;
		err = pk_register_probe(&b.kp);
		refused += err == -EILSEQ;
		if (!err)
			pk_unregister_probe(&b.kp);
	}
	t = now() - t0;
	printf("  %u addresses inside instructions refused in %.3f s\n", refused, t);
	CHECK_EQ(refused, tried);
	CHECK(t < 2.0 * SLOWDOWN);
}

static void big_function(int batch, double bound)
{
	unsigned int i, n = t_big_count, wrong = 0;
	long want = t_big(12345), got;
	struct pk_probe **list;
	struct bp *v = big_probes(n, &list);
	double reg, unreg;

	CHECK(n >= 30000);
	reg = register_big(list, n, batch);
	if (reg < 0)
		goto out;
	printf("  %u boundaries registered %s in %.3f s\n", n,
	       batch ? "in one batch" : "one by one", reg);
	CHECK(reg < bound * SLOWDOWN);
	got = t_big(12345);
	CHECK_EQ(got, want);
	for (i = 0; i < n; i++) {
		if (v[i].hits != t_big_hits[i] && wrong++ < 5)
			printf("  t_big+0x%x hit %lu times, not %u\n", t_big_off[i], v[i].hits,
			       t_big_hits[i]);
	}
	CHECK_EQ(wrong, 0);
	if (batch)
		refuse_inside(list, n);
	unreg = now();
	pk_unregister_probes(list, (int)n);
	printf("  unregistered in %.3f s\n", now() - unreg);
	CHECK_EQ(t_big(12345), want);
	for (i = 0; i < n; i++)
		if (v[i].hits != t_big_hits[i])
			wrong++;
	CHECK_EQ(wrong, 0);
out:
	free(list);
	free(v);
}

static void test_big_function_batch(void)
{
	big_function(1, 2.0);
}

static void test_big_function_one_by_one(void)
{
	big_function(0, 5.0);
}

/* ---- the PLT ---- */

struct plt_sec {
	char name[16];
	uintptr_t addr;
	size_t size, entsize;
};

/* This program's .plt* sections, at their run-time addresses. */
static int find_plt(struct plt_sec *out, int max)
{
	struct link_map *lm = NULL;
	int fd = open("/proc/self/exe", O_RDONLY), n = 0;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	/* The executable is the first link map entry; its bias is l_addr (0 unless PIE). */
	lm = _r_debug.r_map;
	if (elf && lm && !elf_getshdrstrndx(elf, &shstrndx)) {
		while ((scn = elf_nextscn(elf, scn)) && n < max) {
			const char *name;

			if (!gelf_getshdr(scn, &sh))
				continue;
			name = elf_strptr(elf, shstrndx, sh.sh_name);
			if (!name || strncmp(name, ".plt", 4) || strlen(name) >= sizeof(out->name))
				continue;
			strcpy(out[n].name, name);
			out[n].addr = lm->l_addr + sh.sh_addr;
			out[n].size = sh.sh_size;
			out[n].entsize = sh.sh_entsize;
			n++;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return n;
}

static int probe_at(struct bp *b, uintptr_t addr)
{
	memset(b, 0, sizeof(*b));
	b->kp.addr = (void *)addr;
	b->kp.pre_handler = count_pre;
	return pk_register_probe(&b->kp);
}

/*
 * The instruction starts of a PLT0 or PLT entry, from its first bytes: the
 * layouts GNU ld and lld write, with and without IBT. 0: not recognised.
 */
static int plt_starts(const uint8_t *e, int *starts)
{
	static const uint8_t endbr64[] = {0xf3, 0x0f, 0x1e, 0xfa};

	if (e[0] == 0xff && e[1] == 0x35 && e[6] == 0xff && e[7] == 0x25) {
		/* push GOT+8(%rip); jmp *GOT+16(%rip); nopl 0(%rax) */
		starts[0] = 0, starts[1] = 6, starts[2] = 12;
		return 3;
	}
	if (e[0] == 0xff && e[1] == 0x35 && e[6] == 0xf2 && e[7] == 0xff && e[8] == 0x25) {
		/* the same with bnd jmp; nopl (%rax) */
		starts[0] = 0, starts[1] = 6, starts[2] = 13;
		return 3;
	}
	if (e[0] == 0xff && e[1] == 0x25 && e[6] == 0x68 && e[11] == 0xe9) {
		/* jmp *GOT(%rip); push $index; jmp PLT0 */
		starts[0] = 0, starts[1] = 6, starts[2] = 11;
		return 3;
	}
	if (!memcmp(e, endbr64, 4) && e[4] == 0x68 && e[9] == 0xf2 && e[10] == 0xe9) {
		/* endbr64; push $index; bnd jmp PLT0; nop */
		starts[0] = 0, starts[1] = 4, starts[2] = 9, starts[3] = 15;
		return 4;
	}
	return 0;
}

/* Every byte of the 16 at @at: accepted where an instruction starts, -EILSEQ elsewhere. */
static void check_inside(uintptr_t at)
{
	int starts[4], n = plt_starts((const uint8_t *)at, starts), off, k;
	struct bp b;

	if (!n) {
		printf("  layout at %#lx not known, inside not checked\n", (unsigned long)at);
		return;
	}
	for (off = 0; off < 16; off++) {
		int is_start = 0, err;

		for (k = 0; k < n; k++)
			is_start |= starts[k] == off;
		err = probe_at(&b, at + (uintptr_t)off);
		if (!err)
			pk_unregister_probe(&b.kp);
		if (err != (is_start ? 0 : -EILSEQ))
			printf("  %#lx+%d: %d\n", (unsigned long)at, off, err);
		CHECK_EQ(err, is_start ? 0 : -EILSEQ);
	}
}

/* Where the GOT slot read by `jmp *slot(%rip)` at @e points, or 0 for another layout. */
static uintptr_t got_target(uintptr_t e)
{
	uint8_t p[6];
	int32_t disp;

	/* Under the probe's int3. */
	if (pk_read_orig(e, p, sizeof(p)) || p[0] != 0xff || p[1] != 0x25)
		return 0;
	memcpy(&disp, p + 2, 4);
	return *(const uintptr_t *)(e + 6 + (intptr_t)disp);
}

/*
 * A call through the PLT, of a function the program never called before
 * (getppid): its entry is hit once, and PLT0 once if binding is lazy (its
 * GOT slot still pointing back into the entry), and no other entry.
 */
static void plt_use(struct bp *v, unsigned int n, uintptr_t plt, size_t plt_size)
{
	unsigned long *before = calloc(n, sizeof(*before));
	uintptr_t *got = calloc(n, sizeof(*got));
	unsigned int i, hit = 0, nhit = 0, plt0 = n;

	if (!before || !got)
		abort();
	for (i = 0; i < n; i++) {
		uintptr_t e = (uintptr_t)v[i].kp.addr;

		before[i] = v[i].hits;
		if (e == plt)
			plt0 = i;
		got[i] = e != plt && e - plt < plt_size ? got_target(e) : 0;
	}
	CHECK(getppid() > 0);
	CHECK(plt0 < n);
	for (i = 0; i < n; i++) {
		if (i == plt0 || v[i].hits == before[i])
			continue;
		CHECK_EQ(v[i].hits - before[i], 1);
		hit = i;
		nhit++;
	}
	CHECK_EQ(nhit, 1);
	if (nhit == 1 && got[hit] && plt0 < n) {
		int lazy = got[hit] == (uintptr_t)v[hit].kp.addr + 6;

		printf("  getppid's entry .plt+%#lx hit, binding %s\n",
		       (unsigned long)((uintptr_t)v[hit].kp.addr - plt), lazy ? "lazy" : "done");
		CHECK_EQ(v[plt0].hits - before[plt0], lazy);
	}
	free(got);
	free(before);
}

static void test_plt(void)
{
	struct plt_sec secs[8];
	int nsec = find_plt(secs, 8), s, i, nplt = -1;
	struct pk_probe **list;
	struct bp *v;
	unsigned int n = 0, total = 0;
	char buf[128];

	for (s = 0; s < nsec; s++) {
		total += (unsigned int)(secs[s].size / (secs[s].entsize ? secs[s].entsize : 16));
		if (!strcmp(secs[s].name, ".plt"))
			nplt = s;
	}
	CHECK(nplt >= 0);
	if (nplt < 0)
		return;
	/* Named by no symbol: not the size-less _init that ends .init just below. */
	CHECK(pk_lookup_name("main") != NULL); /* symbols are read */
	pk_sprint_symbol(buf, sizeof(buf), (void *)secs[nplt].addr);
	printf("  .plt at %s\n", buf);
	CHECK(strncmp(buf, "_init+", 6));
	check_inside(secs[nplt].addr);
	check_inside(secs[nplt].addr + 16);

	/* .plt+0 and every entry of every PLT section, in one batch. */
	v = calloc(total, sizeof(*v));
	list = calloc(total, sizeof(*list));
	if (!v || !list)
		abort();
	for (s = 0; s < nsec; s++) {
		size_t es = secs[s].entsize ? secs[s].entsize : 16;

		for (i = 0; (size_t)i < secs[s].size / es && n < total; i++, n++) {
			v[n].kp.addr = (void *)(secs[s].addr + (size_t)i * es);
			v[n].kp.pre_handler = count_pre;
			list[n] = &v[n].kp;
		}
	}
	printf("  %u PLT entries in %d sections\n", n, nsec);
	CHECK_EQ(pk_register_probes(list, (int)n), 0);
	plt_use(v, n, secs[nplt].addr, secs[nplt].size);
	pk_unregister_probes(list, (int)n);
	free(list);
	free(v);
}

/* _init has no size: an offset from it that reaches into .plt is not _init's. */
static void test_sizeless_symbol_stops_at_its_section(void)
{
	struct plt_sec secs[8];
	int nsec = find_plt(secs, 8), s;
	void *init = pk_lookup_name("_init");
	struct bp b;

	for (s = 0; s < nsec && strcmp(secs[s].name, ".plt"); s++)
		;
	CHECK(init && s < nsec);
	if (!init || s == nsec || secs[s].addr < (uintptr_t)init)
		return;
	memset(&b, 0, sizeof(b));
	b.kp.symbol_name = "_init";
	b.kp.offset = (unsigned int)(secs[s].addr - (uintptr_t)init);
	b.kp.pre_handler = count_pre;
	CHECK_EQ(pk_register_probe(&b.kp), -EINVAL);
	b.kp.offset = 0;
	b.kp.addr = NULL;
	CHECK_EQ(pk_register_probe(&b.kp), 0);
	pk_unregister_probe(&b.kp);
}

/* Between two functions, where no symbol is: decoded from the end of the one before. */
static void test_code_between_symbols(void)
{
	uintptr_t gap = (uintptr_t)t_gap_code;
	struct bp b;
	int off;

	for (off = 0; off <= 10; off++) {
		int want = off == 0 || off == 10 ? 0 : -EILSEQ,
		    err = probe_at(&b, gap + (uintptr_t)off);

		CHECK_EQ(err, want);
		if (!err)
			pk_unregister_probe(&b.kp);
	}
}

static int probe_rewrite(int off)
{
	struct bp b;
	int err;

	memset(&b, 0, sizeof(b));
	b.kp.symbol_name = "t_rewrite";
	b.kp.offset = (unsigned int)off;
	b.kp.pre_handler = count_pre;
	err = pk_register_probe(&b.kp);
	if (!err) {
		CHECK_EQ(t_rewrite(7), 7);
		CHECK_EQ(b.hits, 1);
		pk_unregister_probe(&b.kp);
	}
	return err;
}

/* Code the program rewrites under a kept boundary map: what counts is the code now. */
static void test_rewritten_code(void)
{
	static const uint8_t nopl[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00},
			     nops[5] = {0x90, 0x90, 0x90, 0x90, 0x90};
	int off = (int)(t_rewrite_nops - (char *)(void *)t_rewrite);

	CHECK_EQ(probe_rewrite(off + 1), 0);
	CHECK_EQ(probe_rewrite(off + 2), 0);
	CHECK_EQ(pk_text_poke(t_rewrite_nops, nopl, sizeof(nopl)), 0);
	pk_text_sync();
	CHECK_EQ(probe_rewrite(off + 1), -EILSEQ);
	CHECK_EQ(probe_rewrite(off + 2), -EILSEQ);
	CHECK_EQ(probe_rewrite(off + 5), 0);
	CHECK_EQ(pk_text_poke(t_rewrite_nops, nops, sizeof(nops)), 0);
	pk_text_sync();
	CHECK_EQ(probe_rewrite(off + 1), 0);
	CHECK_EQ(probe_rewrite(off + 2), 0);
}

static void bench(const char *sizes)
{
	unsigned int n, max = t_big_count;
	struct pk_probe **list;
	struct bp *v = big_probes(max, &list);
	char *end;

	while (*sizes) {
		double batch, single;

		n = (unsigned int)strtoul(sizes, &end, 10);
		if (n > max)
			n = max;
		batch = register_big(list, n, 1);
		pk_unregister_probes(list, (int)n);
		single = register_big(list, n, 0);
		pk_unregister_probes(list, (int)n);
		printf("%6u boundaries: batch %8.3f s, one by one %8.3f s\n", n, batch, single);
		fflush(stdout);
		sizes = *end ? end + 1 : end;
	}
	free(list);
	free(v);
}

/* `test_boundary NAME` runs the cases whose name contains NAME. */
static const char *only;
#define RUN_IF(fn)                                                                                 \
	do {                                                                                       \
		if (!only || strstr(#fn, only))                                                    \
			RUN(fn);                                                                   \
	} while (0)

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		bench(argc > 2 ? argv[2] : "1000,4000,16000,30000");
		return 0;
	}
	only = argc > 1 ? argv[1] : NULL;
	RUN_IF(test_big_function_batch);
	RUN_IF(test_big_function_one_by_one);
	RUN_IF(test_plt);
	RUN_IF(test_sizeless_symbol_stops_at_its_section);
	RUN_IF(test_code_between_symbols);
	RUN_IF(test_rewritten_code);
	TEST_EXIT();
}
