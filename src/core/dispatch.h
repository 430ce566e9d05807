/* SPDX-License-Identifier: MIT */
/*
 * Running the handlers of a site: the generic half of a probe hit, inline
 * in the arch's int3 handler and jump detour alike. The arch code has built
 * the registers and marked the thread as inside the dispatcher; this runs
 * on the hit path, so it calls nothing outside the library.
 */
#ifndef PK_DISPATCH_H
#define PK_DISPATCH_H

#include "internal.h"

/* Flags change under handlers' feet (enable/disable): read them once, atomically. */
static inline unsigned int pk_flags(const struct pk_probe *p)
{
	return __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
}

/*
 * Run the pre_handlers in registration order. Returns 1 when one of them
 * changed regs->ip (the probed instruction is then skipped), else 0; *post
 * tells whether post handlers should run after the instruction.
 */
static inline int pk_dispatch_pre(struct pk_site *site, struct pk_regs *regs, struct pk_thread *t,
				  int *post)
{
	struct pk_probe *p;
	int internal, passes;

	*post = 0;
	/*
	 * Return probes take the return address over only after every entry
	 * handler ran: each sees the stack as the program left it ($stack0).
	 */
	if (!t || t->depth) {
		/* A hit from inside a handler: run the instruction, no handler. */
		pk_dispatch_missed(site);
		return 0;
	}
	t->depth++;
	/*
	 * The program's probes first, then the engine's guards: a guard that
	 * runs the call elsewhere (posix_spawn) must not hide it from them.
	 * A site without guards takes one pass.
	 */
	passes = __atomic_load_n(&site->nr_internal, __ATOMIC_RELAXED) ? 2 : 1;
	for (internal = 0; internal < passes; internal++) {
		for (p = pk_load(&site->probes); p; p = pk_load(&p->pk_priv.next)) {
			if ((pk_flags(p) & PK_FLAG_DISABLED) ||
			    (passes == 2 && (p->pk_priv.owner == PK_OWNER_INTERNAL) != internal))
				continue;
			if (p->pre_handler && p->pre_handler(p, regs)) {
				if (t->ri_pending)
					pk_retprobe_commit(t, regs);
				t->depth--;
				return 1;
			}
			if (p->post_handler)
				*post = 1;
		}
	}
	if (t->ri_pending)
		pk_retprobe_commit(t, regs);
	t->depth--;
	return 0;
}

static inline void pk_dispatch_post(struct pk_site *site, struct pk_regs *regs, struct pk_thread *t)
{
	struct pk_probe *p;

	if (!t || t->depth)
		return;
	t->depth++;
	for (p = pk_load(&site->probes); p; p = pk_load(&p->pk_priv.next))
		if (!(pk_flags(p) & PK_FLAG_DISABLED) && p->post_handler)
			p->post_handler(p, regs, 0);
	t->depth--;
}

#endif /* PK_DISPATCH_H */
