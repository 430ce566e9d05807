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

/* See arch.h: the AAPCS64's DWARF numbering, x0-x30 then sp. */
const char *arch_dwarf_reg_name(unsigned int regno)
{
	static const char *const names[] = {"x0",  "x1",  "x2",	 "x3",	"x4",  "x5",  "x6",  "x7",
					    "x8",  "x9",  "x10", "x11", "x12", "x13", "x14", "x15",
					    "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
					    "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp"};

	return regno < sizeof(names) / sizeof(names[0]) ? names[regno] : NULL;
}
