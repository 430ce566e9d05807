// SPDX-License-Identifier: MIT
/*
 * Symbols of another process: the probekit CLI prints addresses that the
 * agent recorded inside the traced program (the `symbol` fetch type), so it
 * needs that program's objects. They are read from /proc/PID/maps (a file
 * mapped at offset 0 gives the object's load address) and each file's table
 * is built as for this process.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sym/sym.h"
#include "sym/sym_int.h"

struct pk_sym_proc {
	pid_t pid;
	struct obj **objs;
	size_t nobjs;
};

/*
 * The object's load bias: where its first PT_LOAD went, less that segment's
 * address; 0 for a @map_start of 0 (the file's own addresses).
 */
int pk_elf_read_phdrs(const char *path, uintptr_t map_start, struct ent *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	size_t n, i;
	int err = -ENOEXEC, first = 1;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_getphdrnum(elf, &n) == 0 && n) {
		e->phdr = calloc(n, sizeof(*e->phdr));
		for (i = 0; e->phdr && i < n; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(elf, (int)i, &ph))
				continue;
			e->phdr[e->phnum].p_type = ph.p_type;
			e->phdr[e->phnum].p_flags = ph.p_flags;
			e->phdr[e->phnum].p_offset = ph.p_offset;
			e->phdr[e->phnum].p_vaddr = ph.p_vaddr;
			e->phdr[e->phnum].p_memsz = ph.p_memsz;
			e->phdr[e->phnum].p_filesz = ph.p_filesz;
			if (ph.p_type == PT_LOAD && first) {
				if (map_start)
					e->bias = map_start - (ph.p_vaddr & ~(uintptr_t)4095);
				first = 0;
			}
			e->phnum++;
		}
		err = e->phdr && !first ? 0 : -ENOEXEC;
		if (err) {
			free(e->phdr);
			e->phdr = NULL;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

static int have(const struct pk_sym_proc *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->nobjs; i++)
		if (!strcmp(p->objs[i]->path, path))
			return 1;
	return 0;
}

int pk_sym_proc_refresh(struct pk_sym_proc *p)
{
	char name[64], line[4096], path[4096];
	unsigned long lo, hi, off;
	FILE *f;
	int first = 1;

	snprintf(name, sizeof(name), "/proc/%d/maps", (int)p->pid);
	f = fopen(name, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct ent e = {0};
		struct obj *o, **grown;

		path[0] = 0;
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095[^\n]", &lo, &hi, &off, path) < 3 ||
		    path[0] != '/' || off != 0 || have(p, path))
			continue;
		e.path = path;
		/* The first file mapped is the program itself. */
		e.is_exe = first;
		first = 0;
		if (pk_elf_read_phdrs(path, lo, &e))
			continue;
		if (!pk_symtab_build(&e, &o) && o) {
			grown = realloc(p->objs, (p->nobjs + 1) * sizeof(*p->objs));
			if (grown) {
				p->objs = grown;
				p->objs[p->nobjs++] = o;
			} else {
				pk_symtab_free(o);
			}
		}
		free(e.phdr);
	}
	fclose(f);
	return 0;
}

struct pk_sym_proc *pk_sym_proc_open(pid_t pid)
{
	struct pk_sym_proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	if (pk_sym_proc_refresh(p)) {
		free(p);
		return NULL;
	}
	return p;
}

int pk_sym_proc_sprint(struct pk_sym_proc *p, char *buf, size_t size, uintptr_t addr)
{
	struct pk_sym_info info;
	size_t i;

	for (i = 0; p && i < p->nobjs; i++) {
		const struct obj *o = p->objs[i];
		const struct seg *seg = pk_obj_seg_at(o, addr);
		const struct sym *s = seg ? pk_obj_sym_at(o, seg, addr) : NULL;

		if (s) {
			pk_obj_fill_info(&info, o, s);
			return pk_sym_format(buf, size, addr, &info);
		}
	}
	return pk_sym_format(buf, size, addr, NULL);
}

void pk_sym_proc_close(struct pk_sym_proc *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nobjs; i++)
		pk_symtab_free(p->objs[i]);
	free(p->objs);
	free(p);
}
