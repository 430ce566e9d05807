// SPDX-License-Identifier: MIT
/*
 * The rarer paths of a hit, out of line: missed hits and fault handlers
 * (the handlers proper run inline, from dispatch.h).
 */
#include "core/dispatch.h"

void pk_dispatch_missed(struct pk_site *site)
{
	struct pk_probe *p;

	for (p = pk_load(&site->probes); p; p = pk_load(&p->pk_priv.next))
		if (!(pk_flags(p) & PK_FLAG_DISABLED))
			pk_inc(&p->nmissed);
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
