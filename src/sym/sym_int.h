/* SPDX-License-Identifier: MIT */
/*
 * Private to src/sym: the per-object symbol tables that sym.c publishes in
 * its snapshots, and the builder that fills them from the ELF files.
 * A table is immutable once built and is never freed after publication.
 */
#ifndef PK_SYM_INT_H
#define PK_SYM_INT_H

#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDSO_NAME "linux-vdso.so.1"

enum {
	SYM_IFUNC = 1,	/* addr is the resolver, not the implementation */
	SYM_HIDDEN = 2, /* a non-default version (memcpy@GLIBC_2.2.5) */
	SYM_DATA = 4,	/* a data object: found by name (@SYM fetch args), never walked */
};

/* Ordered by preference when several symbols share a name or address. */
enum { BIND_GLOBAL, BIND_WEAK, BIND_LOCAL };

struct sym {
	uintptr_t addr;
	/* Highest addr + size among this entry and all entries before it. */
	uintptr_t maxend;
	size_t size;
	const char *name;
	unsigned char bind;
	unsigned char flags;
};

struct seg {
	uintptr_t start;
	uintptr_t end;
	bool exec;
};

/* A section of code (SHF_EXECINSTR): a size-less symbol does not reach past its own. */
struct xsec {
	uintptr_t start;
	uintptr_t end;
	size_t entsize; /* of a PLT whose every entry starts an instruction, else 0 */
	bool plt;	/* .plt, .plt.sec, .plt.got, .iplt: stubs that no symbol covers */
};

struct obj {
	char *path;
	const char *base;
	char *soname;
	uintptr_t bias;
	uintptr_t lo;
	uintptr_t hi;
	bool is_exe;
	bool is_vdso;
	struct seg *segs;
	size_t nsegs;
	/* By address; none when the file's section headers could not be read. */
	struct xsec *xsecs;
	size_t nxsecs;
	/* By address; among aliases at one address the preferred one first. */
	struct sym *syms;
	size_t nsyms;
	/* By name; among definitions of one name the preferred one first. */
	const struct sym **by_name;
	char *names;
};

typedef ElfW(Phdr) pk_phdr_t;

/* A loaded object as dl_iterate_phdr reported it. */
struct ent {
	char *path;
	uintptr_t bias;
	pk_phdr_t *phdr;
	size_t phnum;
	bool is_exe;
	bool is_vdso;
};

/* Returns 0 or -ENOMEM; an unreadable file gives a table without symbols. */
int pk_symtab_build(const struct ent *e, struct obj **out);
const struct seg *pk_obj_seg_at(const struct obj *o, uintptr_t addr);
const struct xsec *pk_obj_xsec_at(const struct obj *o, uintptr_t addr);
/* The preferred symbol named @name (default version, global before weak before local). */
const struct sym *pk_obj_sym_named(const struct obj *o, const char *name);
const struct sym *pk_obj_sym_at(const struct obj *o, const struct seg *seg, uintptr_t addr);
struct pk_sym_info;
void pk_obj_fill_info(struct pk_sym_info *out, const struct obj *o, const struct sym *s);
/*
 * @e->phdr (malloc'ed) and @e->bias of the ELF file at @path, mapped at
 * @map_start (0: at its own addresses). Returns 0, -ENOEXEC or -errno.
 */
int pk_elf_read_phdrs(const char *path, uintptr_t map_start, struct ent *e);
/* Only for tables that were never published. */
void pk_symtab_free(struct obj *o);

#endif /* PK_SYM_INT_H */
