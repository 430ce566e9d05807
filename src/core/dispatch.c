// SPDX-License-Identifier: MIT
/*
 * Running the handlers of a site: the generic half of a probe hit. The arch
 * trap code has built the registers and marked the thread as inside the
 * dispatcher; this runs on the trap path, so it calls nothing outside the
 * library.
 */
#include "internal.h"

/* Flags change under handlers' feet (enable/disable): read them once, atomically. */
static inline unsigned int pk_flags(const struct pk_probe *p)
{
	return __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
}

static void count_missed(struct pk_site *site)
{
	struct pk_probe *p;

	for (p = pk_load(&site->probes); p; p = pk_load(&p->pk_priv.next))
		if (!(pk_flags(p) & PK_FLAG_DISABLED))
			pk_inc(&p->nmissed);
}

/*
 * Run the pre_handlers in registration order. Returns 1 when one of them
 * changed regs->ip (the probed instruction is then skipped), else 0; *post
 * tells whether post handlers should run after the instruction.
 */
int pk_dispatch_pre(struct pk_site *site, struct pk_regs *regs, struct pk_thread *t, int *post)
{
	struct pk_probe *p;
	int internal;

	*post = 0;
	if (!t || t->depth) {
		/* A hit from inside a handler: run the instruction, no handler. */
		count_missed(site);
		return 0;
	}
	t->depth++;
	/*
	 * The program's probes first, then the engine's guards: a guard that
	 * runs the call elsewhere (posix_spawn) must not hide it from them.
	 */
	for (internal = 0; internal < 2; internal++)
		for (p = pk_load(&site->probes); p; p = pk_load(&p->pk_priv.next)) {
			if ((pk_flags(p) & PK_FLAG_DISABLED) ||
			    (p->pk_priv.owner == PK_OWNER_INTERNAL) != internal)
				continue;
			if (p->pre_handler && p->pre_handler(p, regs)) {
				t->depth--;
				return 1;
			}
			if (p->post_handler)
				*post = 1;
		}
	t->depth--;
	return 0;
}

void pk_dispatch_post(struct pk_site *site, struct pk_regs *regs, struct pk_thread *t)
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

/* Returns 1 when a fault_handler took the fault and set regs to resume. */
int pk_dispatch_fault(struct pk_site *site, struct pk_regs *regs, int signo, struct pk_thread *t)
{
	struct pk_probe *p;
	int handled = 0;

	if (!t || t->depth)
		return 0;
	t->depth++;
	for (p = pk_load(&site->probes); p && !handled; p = pk_load(&p->pk_priv.next))
		if (!(pk_flags(p) & PK_FLAG_DISABLED) && p->fault_handler)
			handled = p->fault_handler(p, regs, signo);
	t->depth--;
	return handled;
}
