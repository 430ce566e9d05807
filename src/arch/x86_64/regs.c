// SPDX-License-Identifier: MIT
/* The register names of probekit trace's %REG, the kernel's regs_query_register_offset(). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arch/arch.h"

#define REG(field) ((uint8_t)(offsetof(struct pk_regs, field) / sizeof(unsigned long)))

/*
 * The kernel's x86-64 regs_query_register_offset() knows only the pt_regs
 * names (the first group). The rest are probekit's: the assembler's names,
 * the 32-bit ones reading the low half.
 */
static const struct {
	const char *name;
	uint8_t idx;
	uint8_t width;
} regnames[] = {
    {"r15", REG(r15), 8},
    {"r14", REG(r14), 8},
    {"r13", REG(r13), 8},
    {"r12", REG(r12), 8},
    {"bp", REG(bp), 8},
    {"bx", REG(bx), 8},
    {"r11", REG(r11), 8},
    {"r10", REG(r10), 8},
    {"r9", REG(r9), 8},
    {"r8", REG(r8), 8},
    {"ax", REG(ax), 8},
    {"cx", REG(cx), 8},
    {"dx", REG(dx), 8},
    {"si", REG(si), 8},
    {"di", REG(di), 8},
    {"orig_ax", REG(orig_ax), 8},
    {"ip", REG(ip), 8},
    {"cs", REG(cs), 8},
    {"flags", REG(flags), 8},
    {"sp", REG(sp), 8},
    {"ss", REG(ss), 8},
    /* probekit: 64-bit assembler names */
    {"rax", REG(ax), 8},
    {"rbx", REG(bx), 8},
    {"rcx", REG(cx), 8},
    {"rdx", REG(dx), 8},
    {"rsi", REG(si), 8},
    {"rdi", REG(di), 8},
    {"rbp", REG(bp), 8},
    {"rsp", REG(sp), 8},
    {"rip", REG(ip), 8},
    {"rflags", REG(flags), 8},
    /* probekit: 32-bit halves */
    {"eax", REG(ax), 4},
    {"ebx", REG(bx), 4},
    {"ecx", REG(cx), 4},
    {"edx", REG(dx), 4},
    {"esi", REG(si), 4},
    {"edi", REG(di), 4},
    {"ebp", REG(bp), 4},
    {"esp", REG(sp), 4},
    {"eflags", REG(flags), 4},
    {"r8d", REG(r8), 4},
    {"r9d", REG(r9), 4},
    {"r10d", REG(r10), 4},
    {"r11d", REG(r11), 4},
    {"r12d", REG(r12), 4},
    {"r13d", REG(r13), 4},
    {"r14d", REG(r14), 4},
    {"r15d", REG(r15), 4},
};

int arch_regs_query_register(const char *name, unsigned int *idx, unsigned int *width)
{
	size_t i;

	for (i = 0; i < sizeof(regnames) / sizeof(regnames[0]); i++) {
		if (!strcmp(name, regnames[i].name)) {
			*idx = regnames[i].idx;
			*width = regnames[i].width;
			return 0;
		}
	}
	return -EINVAL;
}

/* See arch.h: the psABI's DWARF numbering, 0-15 (16 is the return address). */
const char *arch_dwarf_reg_name(unsigned int regno)
{
	static const char *const names[] = {"ax", "dx", "cx",  "bx",  "si",  "di",  "bp",  "sp",
					    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

	return regno < sizeof(names) / sizeof(names[0]) ? names[regno] : NULL;
}
