/* SPDX-License-Identifier: MIT */
#ifndef PK_ARCH_SITE_H
#define PK_ARCH_SITE_H

#include "insn.h"

/* Slot layout: the plain entry falls back into the code, the post entry into pk_post_entry. */
#define PK_SLOT_POST	 48
#define PK_SLOT_LIT_SITE 112
#define PK_SLOT_LIT_POST 120

struct pk_arch_site {
	struct pk_insn insn;
	uint8_t *slot; /* NULL for emulated instructions */
};

#endif
