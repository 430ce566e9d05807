// SPDX-License-Identifier: MIT
/* arm64 jump optimization (a b within +-128 MiB): not written yet; stubs that refuse. */
#include <errno.h>

#include "internal.h"

static const char not_yet[] = "jump optimization is not implemented on aarch64";

int arch_prepare_optimized(struct pk_site *site, const char **why)
{
	(void)site;
	*why = not_yet;
	return -EOPNOTSUPP;
}

int arch_opt_check(uintptr_t addr, const char **why)
{
	(void)addr;
	*why = not_yet;
	return -EOPNOTSUPP;
}

int arch_optimize_step(struct pk_site *site, int step)
{
	(void)site;
	(void)step;
	return 0;
}

int arch_unoptimize_step(struct pk_site *site, int step)
{
	(void)site;
	(void)step;
	return 0;
}

int arch_opt_stale(const struct pk_site *site)
{
	(void)site;
	return 0;
}

int arch_opt_reads(const struct pk_site *site, uintptr_t addr)
{
	(void)site;
	(void)addr;
	return 0;
}

void arch_forget_optimized(struct pk_site *site)
{
	(void)site;
}

/* Without an analysis every handler may touch FP/SIMD state. */
int arch_code_uses_vector(uintptr_t fn)
{
	(void)fn;
	return 1;
}
