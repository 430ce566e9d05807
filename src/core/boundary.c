// SPDX-License-Identifier: MIT
/*
 * Instruction boundaries of probed code, decoded once per function.
 *
 * Whether an address starts an instruction is only known by decoding from a
 * point known to start one: the function's first byte, a PLT entry, the end
 * of the code before. Walking from there on every registration made probing
 * every boundary of one function quadratic (4 minutes for 30,000), so each
 * function's walk is kept as a bitmap of instruction starts and resumed
 * where it stopped: a registration below that point costs one bit test,
 * one above it decodes only the new stretch.
 *
 * Code changes under a kept map only when objects are loaded or unloaded
 * (the symbol generation changes: each map is decoded afresh when next
 * used) or when the program rewrites its own code. Against the latter the
 * answer of a kept map is checked against the code as it is now, around the
 * address (the instruction before it must end at it, or cover it, and the
 * next must end on a start the map knows); where they disagree the map is
 * decoded afresh.
 *
 * Called with pk_lock held (registration and pk_probe_check only).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sym/sym.h"

/* Functions whose maps are kept; the least recently used one goes first. */
#define NR_MAPS 64
/* A decode window; the last MAX_INSN bytes of a full one are decoded again with the next. */
#define WINDOW	 4096
#define MAX_INSN 15

struct bmap {
	uintptr_t start;
	uintptr_t end;	/* UINTPTR_MAX: unknown, decode as far as asked */
	uintptr_t done; /* decoded up to here: every start below is in bits */
	int err;	/* the walk cannot go on from done: -EILSEQ or -EFAULT */
	unsigned long gen;
	unsigned long used; /* lru_clock when last used */
	uint64_t *bits;	    /* bit i: start + i starts an instruction */
	size_t nbits;
};

static struct bmap maps[NR_MAPS];
static unsigned long lru_clock;

static int bit(const struct bmap *m, uintptr_t a)
{
	uintptr_t i = a - m->start;

	/* The bitmap ends at the last start found; the last instruction may run past it. */
	return i < m->nbits && (m->bits[i / 64] >> (i % 64)) & 1;
}

static int set_bit(struct bmap *m, uintptr_t a)
{
	uintptr_t i = a - m->start;

	if (i >= m->nbits) {
		size_t n = m->nbits ? 2 * m->nbits : 1024;
		uint64_t *g;

		while (n <= i)
			n *= 2;
		g = realloc(m->bits, n / 8);
		if (!g)
			return -ENOMEM;
		memset((char *)g + m->nbits / 8, 0, (n - m->nbits) / 8);
		m->bits = g;
		m->nbits = n;
	}
	m->bits[i / 64] |= 1ULL << (i % 64);
	return 0;
}

static void map_reset(struct bmap *m, uintptr_t start, uintptr_t end)
{
	free(m->bits);
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->end = end;
	m->done = start;
	m->gen = pk_sym_generation();
}

/* The original bytes at @pc, as many as can be read up to @want: their count or -EFAULT. */
static long read_window(uintptr_t pc, uint8_t *buf, size_t want)
{
	/* Near the end of a mapping: what is left of the page, then byte by byte (read_insn). */
	size_t page_left = 4096 - (pc & 4095);

	if (!pk_read_orig(pc, buf, want))
		return (long)want;
	if (page_left < want && !pk_read_orig(pc, buf, page_left))
		return (long)page_left;
	for (want = want < MAX_INSN ? want : MAX_INSN; want; want--)
		if (!pk_read_orig(pc, buf, want))
			return (long)want;
	return -EFAULT;
}

/*
 * Decode @m on past @addr, a window at a time: the rest of the window is
 * decoded too, so that the next registrations in the function find their
 * answer in the bitmap.
 */
static int extend(struct bmap *m, uintptr_t addr)
{
	static uint8_t buf[WINDOW];

	while (m->done <= addr && !m->err) {
		size_t want = WINDOW, off = 0;
		long n;

		if (m->done >= m->end) {
			m->err = -EILSEQ;
			break;
		}
		/* The last instruction may run past a wrong symbol size: read a little more. */
		if (m->end - m->done < WINDOW - MAX_INSN)
			want = (size_t)(m->end - m->done) + MAX_INSN;
		n = read_window(m->done, buf, want);
		if (n < 0) {
			m->err = (int)n;
			break;
		}
		while (off < (size_t)n && m->done < m->end) {
			int len;

			/* Short of a whole instruction in a full window: read on from here. */
			if ((size_t)n - off < MAX_INSN && (size_t)n == want)
				break;
			len = arch_insn_length(buf + off, (size_t)n - off);
			if (len < 0) {
				m->err = -EILSEQ;
				break;
			}
			if (set_bit(m, m->done))
				return -ENOMEM;
			m->done += (uintptr_t)len;
			off += (size_t)len;
		}
	}
	return 0;
}

/* The length of the instruction at @pc as the code is now, or -EILSEQ, -EFAULT. */
static int insn_len_now(uintptr_t pc)
{
	uint8_t buf[MAX_INSN + 1];
	long n = read_window(pc, buf, sizeof(buf));

	return n < 0 ? (int)n : arch_insn_length(buf, (size_t)n);
}

/* Where the instruction at @pc ends as the code is now, if that is a start @m knows; else 0. */
static uintptr_t ends_on_start(const struct bmap *m, uintptr_t pc)
{
	int len = insn_len_now(pc);
	uintptr_t end = pc + (uintptr_t)len;

	return len > 0 && (end >= m->done || bit(m, end)) ? end : 0;
}

/*
 * Whether the code around @addr (below m->done) still agrees with what @m
 * says of it: the instruction that @m has starting last before @addr ends
 * at @addr if @addr is a start, or past it if not, and the instruction it
 * reaches ends on a start @m knows.
 */
static int still_agrees(const struct bmap *m, uintptr_t addr)
{
	uintptr_t prev = addr, end;

	while (prev > m->start && addr - prev < MAX_INSN && !bit(m, --prev))
		;
	if (prev == addr || !bit(m, prev))
		return bit(m, addr) && ends_on_start(m, addr); /* the first instruction */
	end = ends_on_start(m, prev);
	if (bit(m, addr))
		return end == addr && ends_on_start(m, addr);
	return end > addr;
}

static struct bmap *map_for(uintptr_t start, uintptr_t end, int *fresh)
{
	struct bmap *m, *lru = &maps[0];

	for (m = maps; m < maps + NR_MAPS; m++) {
		if (m->bits && m->start == start && m->end == end)
			break;
		if (m->used < lru->used)
			lru = m;
	}
	if (m == maps + NR_MAPS)
		m = lru;
	*fresh = !m->bits || m->start != start || m->end != end || m->gen != pk_sym_generation();
	if (*fresh)
		map_reset(m, start, end);
	m->used = ++lru_clock;
	return m;
}

/* 0 if a walk over @m from its start meets @addr, -EILSEQ, -EFAULT, -ENOMEM. */
static int map_check(struct bmap *m, uintptr_t addr)
{
	int err = extend(m, addr);

	if (err)
		return err;
	if (addr < m->done)
		return bit(m, addr) ? 0 : -EILSEQ;
	return m->err;
}

/* The range a walk to @addr starts from: @sym's, else what the object says is there. */
static int code_range(uintptr_t addr, const struct pk_sym_info *sym, struct pk_code_range *r)
{
	if (!sym)
		return pk_sym_code_range(addr, r);
	if (sym->size) {
		r->end = sym->start + sym->size;
	} else {
		/* A label runs on to the end of its section (or of the code around it). */
		if (pk_sym_code_range(sym->start, r))
			r->end = UINTPTR_MAX;
	}
	r->start = sym->start;
	r->stride = 0;
	return 0;
}

/**
 * pk_boundary_check() - whether a probe may go at @addr: on the start of an
 * instruction, by decoding from a point known to be one.
 * @addr: the address to probe.
 * @sym: the symbol it was given as or found in, or NULL: then the range comes
 *       from the object's sections and symbols (pk_sym_code_range()).
 *
 * Return: 0 (also when nothing is known about the code at @addr, as for
 * code of no loaded object); -EILSEQ inside an instruction or past bytes
 * that do not decode; -EINVAL when @addr lies beyond what a size-less @sym
 * can cover (the end of its section); -EFAULT; -ENOMEM.
 */
int pk_boundary_check(uintptr_t addr, const struct pk_sym_info *sym)
{
	struct pk_code_range r;
	struct bmap one, *m = &one;
	int err, fresh = 1;

	if (code_range(addr, sym, &r))
		return 0;
	if (addr < r.start || addr >= r.end)
		return -EINVAL;
	/*
	 * A function's first byte starts an instruction by definition: an
	 * entry probe decodes nothing here (a window per function made
	 * registering every entry of a large library decode it whole).
	 */
	if (addr == r.start && !r.stride)
		return 0;
	if (r.stride) {
		/* A PLT entry: short enough to walk every time, and not worth a kept map. */
		r.start += (addr - r.start) / r.stride * r.stride;
		memset(&one, 0, sizeof(one));
		map_reset(&one, r.start, r.start + r.stride);
	} else {
		m = map_for(r.start, r.end, &fresh);
	}
	err = map_check(m, addr);
	/* A map built earlier: its answer stands if the code around @addr still says the same. */
	if (!fresh && (err == -EILSEQ || !err) && (addr >= m->done || !still_agrees(m, addr))) {
		map_reset(m, r.start, r.end);
		err = map_check(m, addr);
	}
	if (m == &one)
		free(one.bits);
	return err;
}

/* Forget every map: the engine is being released. */
void pk_boundary_release(void)
{
	size_t i;

	for (i = 0; i < NR_MAPS; i++) {
		free(maps[i].bits);
		memset(&maps[i], 0, sizeof(maps[i]));
	}
	lru_clock = 0;
}
