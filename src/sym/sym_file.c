// SPDX-License-Identifier: MIT
/*
 * Symbols of an ELF file that need not be loaded anywhere: the kernel's
 * uprobe_events takes PATH:OFFSET, a file offset, so a PATH:SYM definition is
 * turned into one from the file's own tables (.symtab, .dynsym, or the
 * build-id debug file), read at the file's own addresses.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sym.h"
#include "sym/sym_int.h"

int pk_sym_file_offset(const char *path, const char *name, uint64_t *offset, size_t *size)
{
	struct ent e = {.path = (char *)path, .is_exe = true};
	struct obj *o = NULL;
	const struct sym *s;
	size_t i;
	int err;

	if (!path || !name || !*name || !offset)
		return -EINVAL;
	err = pk_elf_read_phdrs(path, 0, &e);
	if (err)
		return err;
	err = pk_symtab_build(&e, &o);
	if (err)
		goto out;
	s = pk_obj_sym_named(o, name);
	if (!s || (s->flags & SYM_DATA)) {
		err = -ENOENT;
		goto out;
	}
	/* The kernel cannot run the resolver to learn which implementation it picks. */
	if (s->flags & SYM_IFUNC) {
		err = -EOPNOTSUPP;
		goto out;
	}
	err = -ENOEXEC;
	for (i = 0; i < e.phnum; i++) {
		const pk_phdr_t *ph = &e.phdr[i];

		if (ph->p_type != PT_LOAD || s->addr < ph->p_vaddr ||
		    s->addr - ph->p_vaddr >= ph->p_filesz)
			continue;
		*offset = s->addr - ph->p_vaddr + ph->p_offset;
		if (size)
			*size = s->size;
		err = 0;
		break;
	}
out:
	pk_symtab_free(o);
	free(e.phdr);
	return err;
}

int pk_sym_file_foreach(const char *path, int (*fn)(const char *name, void *arg), void *arg)
{
	struct ent e = {.path = (char *)path, .is_exe = true};
	struct obj *o = NULL;
	const char *prev = NULL;
	size_t i;
	int err;

	if (!path || !fn)
		return -EINVAL;
	err = pk_elf_read_phdrs(path, 0, &e);
	if (err)
		return err;
	err = pk_symtab_build(&e, &o);
	/* Sorted by name: each function once, whatever its versions and aliases of it. */
	for (i = 0; !err && i < o->nsyms; i++) {
		const struct sym *s = o->by_name[i];

		if ((s->flags & (SYM_DATA | SYM_HIDDEN)) || (prev && !strcmp(prev, s->name)))
			continue;
		prev = s->name;
		err = fn(s->name, arg);
	}
	pk_symtab_free(o);
	free(e.phdr);
	return err;
}
