// SPDX-License-Identifier: MIT
/*
 * Go programs. The Go runtime runs goroutines on small stacks that it
 * grows by copying, and guarantees a function only a few hundred bytes
 * below its stack pointer before the function's own check (StackGuard,
 * 928 bytes in Go 1.19): a probe's frame must not go there. A signal frame
 * with the full vector state does not fit either, so in a Go program the
 * trap is taken on the thread's signal stack (Go gives every thread one)
 * and no jump detour is planted (a detour's handler runs on the stack it
 * interrupts).
 */
#include <elf.h>
#include <link.h>
#include <string.h>

#include "internal.h"

int pk_go_program = -1;

/* The Go linker's build-id note, in every Go executable: owner "Go" (its size 4, padded), type 4.
 */
static int go_note(const char *p, size_t n)
{
	while (n >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *nh = (const void *)p;
		size_t name = (nh->n_namesz + 3) & ~3u, desc = (nh->n_descsz + 3) & ~3u;
		size_t len = sizeof(*nh) + name + desc;

		if (len > n)
			return 0;
		if (nh->n_type == 4 && (nh->n_namesz == 3 || nh->n_namesz == 4) &&
		    !memcmp(p + sizeof(*nh), "Go", 3))
			return 1;
		p += len;
		n -= len;
	}
	return 0;
}

static int exe_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	int *go = arg, i;

	(void)size;
	/* The executable comes first. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_NOTE &&
		    go_note((const char *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz))
			*go = 1;
	}
	return 1;
}

int pk_is_go_program(void)
{
	int go = 0;

	if (pk_go_program < 0) {
		dl_iterate_phdr(exe_cb, &go);
		pk_go_program = go;
	}
	return pk_go_program;
}
