/* SPDX-License-Identifier: MIT */
#ifndef PK_ARCH_SITE_H
#define PK_ARCH_SITE_H

#include "insn.h"

/* Slot layout: the plain entry falls back into the code, the post entry into pk_post_entry. */
#define PK_SLOT_POST	 48
#define PK_SLOT_LIT_SITE 112
#define PK_SLOT_LIT_POST 120
/*
 * The detours of a jump-optimized probe: the jump lands on one of the two,
 * which differ in where their fast exit goes on to: the plain entry, or
 * for a site with post handlers the post entry.
 */
#define PK_SLOT_DETOUR	    128
#define PK_SLOT_DETOUR_POST 176
#define PK_DETOUR_CALL_END  17 /* the call's return address, from a detour's start */
#define PK_SLOT_LIT_OPT	    248

struct pk_arch_site {
	struct pk_insn insn;
	uint8_t *slot;	 /* NULL for emulated instructions */
	uint8_t *dslot;	 /* the slot holding the detour (slot, or one of its own) */
	uint8_t jmp[8];	 /* the jump's bytes over the instruction: prefixes, e9, rel32 */
	uint8_t jmp_len; /* of jmp[]; bytes past the instruction are its successor's */
	uint8_t own;	 /* bytes of jmp[] within the instruction (what is written) */
	uint8_t stub_len;
	uint8_t post;	 /* the jump goes to the post detour */
	uint8_t span;	 /* bytes from the site that the jump changes or reads */
	uint8_t evictee; /* a bare site: the successor a neighbour's jump evicted */
	uint8_t gone;	 /* unoptimizing found other code there: nothing is written */
	uintptr_t stub;	 /* a punned jump's stub, or 0 */
	/* Eviction: the successor's bare site, its jump and the stub that jump lands on. */
	struct pk_site *ev;
	uintptr_t ev_stub;
	uint8_t ev_stub_len;
	uint8_t ev_jmp[5];
};

/*
 * Whether entry.S's fast exits can resume @r (included after probekit.h):
 * the stack pointer as it came, and no flag beyond those they restore
 * (TF 0x100 and AC 0x40000 need popfq).
 */
#define PK_FAST_FLAGS_MASK	    0x40100UL
#define pk_arch_fast_resume(r, sp0) ((r)->sp == (sp0) && !((r)->flags & PK_FAST_FLAGS_MASK))

struct pk_site;
/* Free what optimizing @site allocated: its stub and a detour slot of its own. */
void pk_opt_arch_free(struct pk_site *site);

/*
 * The detours of a slot (opt.c), as the bytes from PK_SLOT_DETOUR to the
 * slot's end: written with the slot itself, they cost a jump optimization
 * no write of its own. @relocated: the slot runs a relocated instruction
 * (else its detour serves an emulated one and leaves by the slow exit).
 */
int arch_detour_image(uint8_t *buf, const uint8_t *slot, int relocated);

#endif
