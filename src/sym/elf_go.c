// SPDX-License-Identifier: MIT
/*
 * Which Go programs can host the agent: the tracer asks before it starts
 * one, the agent before it arms anything in one it was carried into by exec.
 */
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "sym/sym.h"

/* Does @e's dynamic symbol table name @want (defined or imported)? */
static int dynsym_has(Elf *e, const char *want)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		size_t i, n;
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; d && i < n; i++) {
			const char *name;

			if (gelf_getsym(d, (int)i, &sym) &&
			    (name = elf_strptr(e, sh.sh_link, sym.st_name)) && !strcmp(name, want))
				return 1;
		}
	}
	return 0;
}

int pk_elf_go(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), go = 0;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *e;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && !elf_getshdrstrndx(e, &shstrndx)) {
		while (!go && (scn = elf_nextscn(e, scn))) {
			const char *name =
			    gelf_getshdr(scn, &sh) ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;

			/* Every Go linker since 1.13 writes it, stripped or not. */
			go = name && !strcmp(name, ".go.buildinfo");
		}
		/* runtime/cgo starts threads with pthread_create; the runtime alone uses clone. */
		if (go)
			go = dynsym_has(e, "pthread_create") ? PK_GO_CGO : PK_GO_OWN_THREADS;
	}
	if (e)
		elf_end(e);
	close(fd);
	return go;
}
