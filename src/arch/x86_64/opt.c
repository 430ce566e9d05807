// SPDX-License-Identifier: MIT
/*
 * x86-64 jump optimization: a probe hit without a signal.
 *
 * The int3 over the probed instruction is replaced by a jmp rel32 into a
 * detour (in the site's slot) that pushes the site and enters pk_opt_entry
 * (entry.S): registers saved into a struct pk_regs, handlers run, the
 * displaced instruction run from the slot (or emulated), back to the code.
 *
 * Tactics, after e9patch (Duck et al., PLDI 2020), chosen so that only the
 * probed instruction's own bytes ever change: no other instruction boundary
 * changes meaning, so no thread can be caught half way and nothing needs
 * the control flow of the function.
 *  - An instruction of 5 bytes or more becomes the jump.
 *  - A shorter one becomes a punned jump: the jump's rel32 runs on into the
 *    following instruction's bytes, which stay as they are, so those bytes
 *    fix the high part of the displacement and the jump lands where they
 *    say. A stub mapped at that address jumps on to the detour. Redundant
 *    prefixes before the opcode shift which bytes are fixed, so each
 *    instruction has several possible landing windows.
 *  - Otherwise the probe stays an int3, and the reason is kept for the list.
 * A pun depends on its successor's bytes: a probe later planted there first
 * sends the punning site back to int3 (pk_opt_unshadow()).
 */
#include <errno.h>
#include <string.h>

#include "core/dispatch.h"
#include "internal.h"

#define JMP32	 0xe9
#define PREFIX	 0x26 /* es: ignored on a near jump in 64-bit mode */
#define STUB_MAX 14

void pk_opt_entry(void);

/*
 * The hit, from pk_opt_entry: the int3 handler's work without the signal.
 * Resumes at regs->ip: a handler's choice, the slot, or where the emulated
 * instruction went.
 */
int pk_opt_dispatch(struct pk_site *site, struct pk_regs *regs, uintptr_t ret)
{
	struct pk_thread *t = pk_thread_get();
	unsigned long sp0 = regs->sp;
	uint64_t fault_addr;
	int post;

	pk_tsan_acquire(site);
	/* A signal handler's hit while this thread was in a slot window: see trap.c. */
	if (pk_ool)
		__atomic_fetch_add(&pk_nested_windows, 1, __ATOMIC_RELAXED);
	pk_thread_enter(t);
	regs->ip = site->addr;
	if (pk_dispatch_pre(site, regs, t, &post)) {
		pk_tsan_release(site);
		pk_thread_exit(t);
		return 0;
	}
	if (site->arch.slot) {
		/* The detour goes on into the slot by itself, if into the right entry. */
		int fast = (ret == (uintptr_t)site->arch.dslot + PK_SLOT_DETOUR_POST +
				       PK_DETOUR_CALL_END) == post &&
			   pk_arch_fast_resume(regs, sp0);

		regs->ip = (uintptr_t)site->arch.slot + (post ? PK_SLOT_POST : 0);
		pk_ool = (uintptr_t)site;
		pk_tsan_release(site);
		pk_thread_exit(t);
		return fast;
	}
	/* Only kinds whose emulation cannot fault are optimized (see unsupported()). */
	pk_insn_emulate(&site->arch.insn, regs, &fault_addr);
	if (post)
		pk_dispatch_post(site, regs, t);
	pk_tsan_release(site);
	pk_thread_exit(t);
	return 0;
}

/*
 * One detour at @at in @slot: below the red zone, push the site, call
 * pk_opt_entry; its fast exit returns here to go on to @cont in the slot
 * (none for an emulated instruction, whose hits leave by the slow exit).
 */
static void detour_code(struct pk_writer *w, const uint8_t *slot, uint64_t cont)
{
	pk_writer_lea_rsp(w, -128);
	pk_writer_push_mem(w, (uintptr_t)slot + PK_SLOT_LIT_SITE);
	pk_writer_call_mem(w, (uintptr_t)slot + PK_SLOT_LIT_OPT);
	if (cont) {
		pk_writer_lea_rsp32(w, 136);
		pk_writer_jmp(w, cont);
	}
}

/* See arch_site.h. */
int arch_detour_image(uint8_t *buf, const uint8_t *slot, int relocated)
{
	uintptr_t base = (uintptr_t)slot;
	struct pk_writer w;

	memset(buf, 0xcc, PK_SLOT_SIZE - PK_SLOT_DETOUR);
	pk_writer_init(&w, buf, PK_SLOT_DETOUR_POST - PK_SLOT_DETOUR, base + PK_SLOT_DETOUR);
	detour_code(&w, slot, relocated ? base : 0);
	if (w.err)
		return w.err;
	pk_writer_init(&w, buf + (PK_SLOT_DETOUR_POST - PK_SLOT_DETOUR),
		       PK_SLOT_LIT_OPT - PK_SLOT_DETOUR_POST, base + PK_SLOT_DETOUR_POST);
	detour_code(&w, slot, relocated ? base + PK_SLOT_POST : 0);
	if (w.err)
		return w.err;
	pk_writer_init(&w, buf + (PK_SLOT_LIT_OPT - PK_SLOT_DETOUR), 8,
		       (uintptr_t)slot + PK_SLOT_LIT_OPT);
	pk_writer_u64(&w, (uintptr_t)pk_opt_entry);
	return w.err;
}

/* Both detours in the second half of a slot whose site literal is set. */
static int write_detour(uint8_t *slot, int relocated)
{
	uint8_t buf[PK_SLOT_SIZE - PK_SLOT_DETOUR];
	int err = arch_detour_image(buf, slot, relocated);

	return err ? err : pk_text_poke(slot + PK_SLOT_DETOUR, buf, sizeof(buf));
}

/* A slot for the detour of an emulated instruction, which has none of its own. */
static int own_slot(struct pk_site *site)
{
	uint8_t lit[8];
	struct pk_writer w;
	int err = 0;

	site->arch.dslot = pk_slot_alloc(site->addr, site->addr, &err);
	if (!site->arch.dslot)
		return err;
	pk_writer_init(&w, lit, sizeof(lit), (uintptr_t)site->arch.dslot + PK_SLOT_LIT_SITE);
	pk_writer_u64(&w, (uintptr_t)site);
	err = pk_text_poke(site->arch.dslot + PK_SLOT_LIT_SITE, lit, sizeof(lit));
	if (err) {
		pk_slot_free(site->arch.dslot);
		site->arch.dslot = NULL;
	}
	return err;
}

static int reaches(uint64_t from_next, uint64_t to)
{
	int64_t d = (int64_t)(to - from_next);

	return d == (int32_t)d;
}

/* The stub at @at that a punned jump lands on: on to the detour. */
static int write_stub(uintptr_t at, uint64_t detour, uint8_t *len)
{
	uint8_t buf[STUB_MAX];
	struct pk_writer w;

	pk_writer_init(&w, buf, sizeof(buf), at);
	if (reaches(at + 5, detour)) {
		pk_writer_jmp(&w, detour);
	} else {
		pk_writer_jmp_mem(&w, at + 6);
		pk_writer_u64(&w, detour);
	}
	if (w.err)
		return w.err;
	*len = (uint8_t)w.len;
	return pk_text_poke((void *)at, buf, w.len);
}

/*
 * Where a punned jump over an instruction of @len < 5 bytes at @addr lands:
 * @np prefixes, the opcode, then rel32 whose first (len - np - 1) bytes are
 * ours to choose and the rest are the bytes that follow (@next, from
 * addr + len). Return: 0 with the window [*lo, *hi], or -ERANGE.
 */
static int pun_window(uintptr_t addr, unsigned int len, const uint8_t *next, unsigned int np,
		      uintptr_t *lo, uintptr_t *hi)
{
	unsigned int k = len - np - 1, i;
	uint32_t fixed = 0;
	int64_t base;

	if (np >= len)
		return -ERANGE;
	/* rel32's byte i sits at addr + np + 1 + i: ours below k, the successor's from k. */
	for (i = k; i < 4; i++)
		fixed |= (uint32_t)next[np + 1 + i - len] << (8 * i);
	base = (int64_t)addr + np + 5 + (int32_t)fixed;
	if (base < 0x10000)
		return -ERANGE;
	*lo = (uintptr_t)base;
	*hi = *lo + ((1ul << (8 * k)) - 1);
	return 0;
}

static size_t stub_claim_len(uintptr_t lo, uintptr_t hi, uint64_t detour)
{
	return reaches(lo + 5, detour) && reaches(hi + 5, detour) ? 5 : STUB_MAX;
}

/* The punned jump with @np prefixes, and its stub. */
static int pun(struct pk_site *site, const uint8_t *next, unsigned int np, uint64_t detour)
{
	unsigned int len = site->arch.insn.len, i;
	uintptr_t lo, hi, at;
	uint32_t rel32;
	size_t claim;
	int err = pun_window(site->addr, len, next, np, &lo, &hi);

	if (err)
		return err;
	claim = stub_claim_len(lo, hi, detour);
	err = pk_stub_claim(lo, hi, claim, &at, 0);
	if (err)
		return err;
	err = write_stub(at, detour, &site->arch.stub_len);
	if (err) {
		pk_stub_unclaim(at, claim);
		return err;
	}
	site->arch.stub = at;
	for (i = 0; i < np; i++)
		site->arch.jmp[i] = PREFIX;
	site->arch.jmp[np] = JMP32;
	rel32 = (uint32_t)(at - (site->addr + np + 5));
	memcpy(&site->arch.jmp[np + 1], &rel32, 4);
	site->arch.jmp_len = (uint8_t)(np + 5);
	site->arch.own = (uint8_t)len;
	site->arch.span = site->arch.jmp_len;
	return 0;
}

/* The bytes a punned jump would read past the instruction: not anyone's to change. */
static int successor_bytes(uintptr_t a, uint8_t *next, unsigned int n)
{
	unsigned int i;

	if (pk_read_nofault(next, (const void *)a, n))
		return -EFAULT;
	for (i = 0; i < n; i++)
		if (pk_site_lookup(a + i))
			return -EBUSY;
	return 0;
}

/* Which instructions can run from the detour: relocated, or emulated without a fault. */
static const char *unsupported(const struct pk_insn *insn)
{
	if ((insn->kind == PK_INSN_JMP_IND || insn->kind == PK_INSN_CALL_IND) && insn->ind_mem)
		return "indirect branch through memory";
	return NULL;
}

/*
 * Eviction (e9patch's T3), for a short instruction I whose puns all land on
 * taken addresses: its successor J (5 bytes or more, relocatable) becomes a
 * jump of its own, e9 + rel32_J, to a stub that goes on to J's slot; I's
 * punned jump then reads e9 and the low bytes of rel32_J, which are ours to
 * choose together: rel32_I = [I's own bytes][e9][r], rel32_J = [r][h], with
 * the free r placing I's stub and h placing J's. A thread at J always finds
 * a whole instruction there: J, an int3 (J's bare site relocates it), or
 * J's jump. With @dry, only whether it would work (pk_opt_check()).
 */
/* Bounds on the search: each try may map a page to see whether it is free. */
#define EV_TRIES_R 64
#define EV_TRIES_H 16

/*
 * Candidate places x = @from + @rel0 + k * @stride (k = 0, 1, -1, 2, -2,
 * ...: nearest first, rel32 of @from), each a window of @width bytes; a
 * window inside a known mapping skips to the mapping's end or start. @try
 * claims a place (0) or not. At most @budget tries.
 */
static int walk(uintptr_t from, int64_t rel0, int64_t stride, uint64_t width, int budget,
		int (*try)(uintptr_t x, int64_t rel, void *arg), void *arg)
{
	int64_t k[2] = {0, -1};
	int dir = 0, n;

	for (n = 0; n < budget; n++, dir ^= 1) {
		int64_t rel = rel0 + k[dir] * stride;
		uintptr_t x = from + (uintptr_t)rel, mlo, mhi;

		if (rel != (int32_t)rel || (int64_t)x < 0x10000) {
			if (dir == 1 || rel != (int32_t)rel)
				k[dir] = dir ? k[dir] - 1 : k[dir] + 1;
			continue;
		}
		if (pk_text_mapping(x, &mlo, &mhi)) {
			/* Past the mapping, in the direction of the walk. */
			k[dir] =
			    dir ? (int64_t)(mlo - width - from - (uintptr_t)rel0) / stride - 1
				: (int64_t)(mhi - from - (uintptr_t)rel0 + (uintptr_t)stride - 1) /
				      stride;
			continue;
		}
		if (!try(x, rel, arg))
			return 0;
		k[dir] += dir ? -1 : 1;
	}
	return -ERANGE;
}

struct ev_search {
	uintptr_t b;
	unsigned int len, q;
	uint64_t detour;
	int dry;
	uintptr_t at_i, at_j;
	size_t claim_i;
	uint32_t r;
};

static int try_j(uintptr_t x, int64_t rel, void *arg)
{
	struct ev_search *e = arg;

	(void)rel;
	return pk_stub_claim(x, x, STUB_MAX, &e->at_j, e->dry);
}

static int try_i(uintptr_t x, int64_t rel, void *arg)
{
	struct ev_search *e = arg;
	uintptr_t hi = x + ((1ul << (8 * (e->len - 1))) - 1);
	uint32_t r = e->q ? (uint32_t)(rel >> (8 * e->len)) & ((1u << (8 * e->q)) - 1) : 0;

	e->claim_i = stub_claim_len(x, hi, e->detour);
	if (pk_stub_claim(x, hi, e->claim_i, &e->at_i, e->dry))
		return -ERANGE;
	/* J's rel32: r low, h high, h free: places spaced 256^q apart. */
	e->r = r;
	if (!walk(e->b + 5, (int32_t)r, e->q ? 1l << (8 * e->q) : 1l << 24, STUB_MAX, EV_TRIES_H,
		  try_j, e))
		return 0;
	if (!e->dry)
		pk_stub_unclaim(e->at_i, e->claim_i);
	return -ERANGE;
}

static int evict(struct pk_site *site, uint64_t detour, int dry)
{
	struct pk_arch_site *a = &site->arch;
	unsigned int len = a->insn.len, i;
	struct ev_search e = {.len = len, .q = 4 - len, .detour = detour, .dry = dry};
	struct pk_insn succ;
	struct pk_site *ev = NULL;
	uint8_t buf[16];
	size_t n = sizeof(buf);
	uint32_t rel_i, rel_j;
	int err;

	e.b = site->addr + len;
	/* What follows a jump or return may be padding or data, not code to rewrite. */
	if (a->insn.kind == PK_INSN_JMP || a->insn.kind == PK_INSN_JMP_IND ||
	    a->insn.kind == PK_INSN_RET)
		return -EOPNOTSUPP;
	while (n && pk_read_orig(e.b, buf, n))
		n--;
	if (!n || pk_insn_decode(buf, n, e.b, &succ) || succ.len < 5 || succ.kind != PK_INSN_RELOC)
		return -EOPNOTSUPP;
	for (i = 0; i < succ.len; i++)
		if (pk_site_lookup(e.b + i))
			return -EBUSY;
	if (!dry) {
		/* Published first: J's slot is where its stub will go on to. */
		ev = pk_site_bare(e.b, &err);
		if (!ev)
			return err;
		ev->arch.evictee = 1;
		e.detour = detour;
	}
	/* I's rel32: its own low bytes, then e9, then r: windows spaced 256^len apart. */
	if (walk(site->addr + 5, (int32_t)((uint32_t)JMP32 << (8 * (len - 1))),
		 len == 4 ? 0x100000000l : 1l << (8 * len), (1ul << (8 * (len - 1))),
		 len == 4 ? 1 : EV_TRIES_R, try_i, &e)) {
		err = -ERANGE;
		goto fail;
	}
	if (dry)
		return 0;
	/* The stub goes on to J's slot, whose relocated copy goes back after J. */
	err = write_stub(e.at_j, (uintptr_t)ev->arch.slot, &a->ev_stub_len);
	if (!err)
		err = write_stub(e.at_i, detour, &a->stub_len);
	if (err) {
		pk_stub_unclaim(e.at_j, STUB_MAX);
		pk_stub_unclaim(e.at_i, e.claim_i);
		goto fail;
	}
	a->stub = e.at_i;
	a->ev_stub = e.at_j;
	a->ev = ev;
	rel_i = (uint32_t)(e.at_i - (site->addr + 5));
	a->jmp[0] = JMP32;
	memcpy(&a->jmp[1], &rel_i, 4);
	a->jmp_len = 5;
	a->own = (uint8_t)len;
	a->span = (uint8_t)(len + succ.len);
	rel_j = (uint32_t)(e.at_j - (e.b + 5));
	a->ev_jmp[0] = JMP32;
	memcpy(&a->ev_jmp[1], &rel_j, 4);
	return 0;
fail:
	if (ev)
		pk_site_bare_free(ev);
	return err;
}

int arch_prepare_optimized(struct pk_site *site, const char **why)
{
	struct pk_arch_site *a = &site->arch;
	uint64_t detour;
	unsigned int len = a->insn.len, np;
	uint8_t next[4];
	int err;

	*why = unsupported(&a->insn);
	if (*why)
		return -EOPNOTSUPP;
	if (!a->dslot) {
		if (a->slot)
			a->dslot = a->slot;
		else if ((err = own_slot(site))) {
			*why = "no slot for a detour within reach";
			return err;
		}
		err = write_detour(a->dslot, a->slot != NULL);
		if (err) {
			*why = "cannot write the detour";
			return err;
		}
	}
	a->gone = 0;
	if (a->jmp_len)
		return 0; /* planned before: pk_opt_unshadow() drops plans that lost their bytes */
	a->post = site->nr_post > 0;
	detour = (uintptr_t)a->dslot + (a->post ? PK_SLOT_DETOUR_POST : PK_SLOT_DETOUR);
	if (len >= 5) {
		uint32_t rel32 = (uint32_t)(detour - (site->addr + 5));

		a->jmp[0] = JMP32;
		memcpy(&a->jmp[1], &rel32, 4);
		a->jmp_len = 5;
		a->own = 5;
		a->span = 5;
		return 0;
	}
	err = successor_bytes(site->addr + len, next, 5 - len);
	if (err == -EBUSY) {
		*why = "the next instruction is probed (a pun needs its bytes)";
		return err;
	}
	if (err) {
		*why = "the bytes after it are not readable";
		return err;
	}
	/* More of our own bytes first: a wider window to place the stub in. */
	for (np = 0; np < len; np++) {
		uint8_t more[4];

		if (np && successor_bytes(site->addr + len, more, 5 - len + np))
			break;
		if (np)
			memcpy(next, more, 5 - len + np);
		if (!pun(site, next, np, detour))
			return 0;
	}
	err = evict(site, detour, 0);
	if (!err)
		return 0;
	*why = err == -ERANGE  ? "no free address where the punned jump lands"
	       : err == -EBUSY ? "the next instruction is probed (a pun needs its bytes)"
			       : "cannot pun here, nor evict the next instruction";
	return err;
}

static int poke_some(uintptr_t at, const uint8_t *bytes, size_t n)
{
	return n && !pk_text_poke((void *)at, bytes, n);
}

/*
 * From the int3 at the site: 0 an int3 on an evicted successor, 1 the rest
 * of both jumps, 2 the successor's jump live, 3 ours (it reads the bytes of
 * the successor's, which must be in place first).
 */
int arch_optimize_step(struct pk_site *site, int step)
{
	static const uint8_t int3 = 0xcc;
	const struct pk_arch_site *a = &site->arch;
	uintptr_t b = a->ev ? a->ev->addr : 0;
	int wrote;

	switch (step) {
	case 0: return b && poke_some(b, &int3, 1);
	case 1:
		wrote = poke_some(site->addr + 1, &a->jmp[1], a->own - 1u);
		return (b && poke_some(b + 1, &a->ev_jmp[1], 4)) || wrote;
	case 2: return b && poke_some(b, &a->ev_jmp[0], 1);
	default: return poke_some(site->addr, &a->jmp[0], 1);
	}
}

/* The same backwards: our jump first, the successor's last. */
/*
 * Whether our jump (and an evicted successor's) is still what the code
 * holds; the first byte may already be the int3 (a site listed twice).
 */
static int jump_in_place(const struct pk_arch_site *a, uintptr_t addr)
{
	uint8_t cur[8];

	if (pk_read_nofault(cur, (const void *)addr, a->own) ||
	    (cur[0] != a->jmp[0] && cur[0] != 0xcc) || memcmp(cur + 1, a->jmp + 1, a->own - 1u))
		return 0;
	return !a->ev ||
	       (!pk_read_nofault(cur, (const void *)a->ev->addr, 5) && !memcmp(cur, a->ev_jmp, 5));
}

int arch_unoptimize_step(struct pk_site *site, int step)
{
	static const uint8_t int3 = 0xcc;
	struct pk_arch_site *a = &site->arch;
	uintptr_t b = a->ev ? a->ev->addr : 0;
	int wrote;

	/* Unmapped, or remapped with other code (dlclose, dlopen): not ours to write. */
	if (step == 0)
		a->gone = !jump_in_place(a, site->addr);
	if (a->gone)
		return 0;
	switch (step) {
	case 0: return poke_some(site->addr, &int3, 1);
	case 1:
		wrote = poke_some(site->addr + 1, &a->insn.bytes[1], a->own - 1u);
		return (b && poke_some(b, &int3, 1)) || wrote;
	case 2: return b && poke_some(b + 1, &a->ev->arch.insn.bytes[1], 4);
	default: return b && poke_some(b, &a->ev->arch.insn.bytes[0], 1);
	}
}

int arch_opt_stale(const struct pk_site *site)
{
	return site->arch.jmp_len && site->arch.post != (site->nr_post > 0);
}

int arch_opt_reads(const struct pk_site *site, uintptr_t addr)
{
	const struct pk_arch_site *a = &site->arch;

	/* A plan counts even while unoptimized: it would be put back as it is. */
	return a->jmp_len && addr >= site->addr + a->own && addr < site->addr + a->span;
}

void arch_forget_optimized(struct pk_site *site)
{
	struct pk_arch_site *a = &site->arch;

	if (a->stub)
		pk_stub_free(a->stub, a->stub_len);
	if (a->ev_stub)
		pk_stub_free(a->ev_stub, a->ev_stub_len);
	if (a->ev)
		pk_site_bare_free(a->ev);
	a->stub = 0;
	a->ev_stub = 0;
	a->ev = NULL;
	a->jmp_len = 0;
	a->own = 0;
	a->span = 0;
}

void pk_opt_arch_free(struct pk_site *site)
{
	struct pk_arch_site *a = &site->arch;

	arch_forget_optimized(site);
	if (a->dslot && a->dslot != a->slot)
		pk_slot_free(a->dslot);
}

unsigned int arch_patched_len(const struct pk_site *site)
{
	/* An evictee's jump is its owner's business: restore it whenever asked. */
	return site->arch.evictee ? 5 : site->optimized ? site->arch.own : 1;
}

int arch_may_start_site(uint8_t b)
{
	return b == 0xcc || b == JMP32 || b == PREFIX;
}

int arch_opt_check(uintptr_t addr, const char **why)
{
	struct pk_insn insn;
	uint8_t buf[16], next[8];
	size_t n = sizeof(buf);
	unsigned int np;
	uintptr_t lo, hi, at;

	*why = NULL;
	while (n && pk_read_orig(addr, buf, n))
		n--;
	if (!n || pk_insn_decode(buf, n, addr, &insn))
		return -EOPNOTSUPP;
	*why = unsupported(&insn);
	if (*why)
		return -EOPNOTSUPP;
	if (insn.len >= 5)
		return 0;
	for (np = 0; np < insn.len; np++) {
		if (successor_bytes(addr + insn.len, next, 5 - insn.len + np)) {
			*why = "the bytes after it are probed or not readable";
			return -EBUSY;
		}
		/* A detour can be had near any code (a slot within 2 GiB): assume the short stub.
		 */
		if (!pun_window(addr, insn.len, next, np, &lo, &hi) &&
		    !pk_stub_claim(lo, hi, 5, &at, 1))
			return 0;
	}
	{
		struct pk_site probe = {.addr = addr};

		probe.arch.insn = insn;
		if (!evict(&probe, addr, 1))
			return 0;
	}
	*why = "no free address where the punned jump lands";
	return -ERANGE;
}
