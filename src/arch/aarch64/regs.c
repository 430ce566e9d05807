// SPDX-License-Identifier: MIT
/* The register names of probekit trace's %REG, the kernel's regs_query_register_offset(). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

#define WORD(field) ((unsigned int)(offsetof(struct pk_regs, field) / sizeof(unsigned long)))

/*
 * The kernel's arm64 regoffset_table knows x0-x30, sp, pc and pstate. The
 * rest are probekit's: w0-w30 read the low half, lr and fp name x30 and x29.
 */
int arch_regs_query_register(const char *name, unsigned int *idx, unsigned int *width)
{
	static const struct {
		const char *name;
		unsigned int idx;
	} named[] = {
	    {"sp", WORD(sp)}, {"pc", WORD(pc)}, {"pstate", WORD(pstate)}, {"lr", 30}, {"fp", 29},
	};
	char *end;
	unsigned long n;
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (!strcmp(name, named[i].name)) {
			*idx = named[i].idx;
			*width = 8;
			return 0;
		}
	}
	if ((name[0] != 'x' && name[0] != 'w') || name[1] < '0' || name[1] > '9' ||
	    (name[1] == '0' && name[2]))
		return -EINVAL;
	n = strtoul(name + 1, &end, 10);
	if (*end || n > 30)
		return -EINVAL;
	*idx = WORD(regs[0]) + (unsigned int)n;
	*width = name[0] == 'x' ? 8 : 4;
	return 0;
}
