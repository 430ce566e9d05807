/* SPDX-License-Identifier: MIT */
/*
 * Building one object's symbol table from its ELF file (or, for the vDSO,
 * its memory image), its .symtab and .dynsym, and a separate debug file
 * found by build-id.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "sym/sym_int.h"

#define DEBUG_DIR "/usr/lib/debug/.build-id/"
/* In a .gnu.version entry: the version is not the default one. */
#define VERSYM_HIDDEN_BIT 0x8000

static bool elf_ready;

struct raw {
	uintptr_t addr;
	size_t size;
	size_t name; /* offset into the pool, which moves while it grows */
	unsigned char bind;
	unsigned char flags;
};

struct collect {
	struct raw *v;
	size_t n;
	size_t cap;
	char *pool;
	size_t plen;
	size_t pcap;
	struct xsec *xs;
	size_t nxs;
	size_t xcap;
	bool nomem;
};

struct elf_info {
	bool has_symtab;
	char *soname;
	unsigned char build_id[64];
	size_t build_id_len;
};

static void add_raw(struct collect *c, uintptr_t addr, size_t size, const char *name, size_t len,
		    unsigned char bind, unsigned char flags)
{
	if (c->nomem)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct raw *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->nomem = true;
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	if (c->plen + len + 1 > c->pcap) {
		size_t cap = c->pcap ? c->pcap : 4096;
		char *p;

		while (c->plen + len + 1 > cap)
			cap *= 2;
		p = realloc(c->pool, cap);
		if (!p) {
			c->nomem = true;
			return;
		}
		c->pool = p;
		c->pcap = cap;
	}
	memcpy(c->pool + c->plen, name, len);
	c->pool[c->plen + len] = '\0';
	c->v[c->n++] = (struct raw){addr, size, c->plen, bind, flags};
	c->plen += len + 1;
}

static void read_symbols(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
			 uintptr_t bias, struct collect *c)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n, i;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	/* Entry 0 is the reserved null symbol. */
	for (i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Versym v;
		const char *name, *at;
		unsigned char flags = 0, bind;
		size_t len;
		int type;

		if (!gelf_getsym(data, (int)i, &s))
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type == STT_OBJECT && s.st_size)
			flags |= SYM_DATA;
		else if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		if (s.st_shndx == SHN_UNDEF || s.st_shndx == SHN_ABS || !s.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		len = strlen(name);
		/*
		 * .symtab spells versions into the name; strip them so that
		 * the entry merges with its .dynsym twin and matches "memcpy".
		 */
		at = strchr(name, '@');
		if (at) {
			len = (size_t)(at - name);
			if (at[1] != '@')
				flags |= SYM_HIDDEN;
			if (!len)
				continue;
		}
		if (versym && gelf_getversym(versym, (int)i, &v) && (v & VERSYM_HIDDEN_BIT))
			flags |= SYM_HIDDEN;
		if (type == STT_GNU_IFUNC)
			flags |= SYM_IFUNC;
		switch (GELF_ST_BIND(s.st_info)) {
		case STB_GLOBAL: bind = BIND_GLOBAL; break;
		case STB_WEAK: bind = BIND_WEAK; break;
		default: bind = BIND_LOCAL; break;
		}
		add_raw(c, bias + (uintptr_t)s.st_value, (size_t)s.st_size, name, len, bind, flags);
	}
}

static void read_soname(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, struct elf_info *ei,
			struct collect *c)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n, i;

	if (!data || !sh->sh_entsize || ei->soname)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < n; i++) {
		GElf_Dyn d;
		const char *s;

		if (!gelf_getdyn(data, (int)i, &d) || d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_SONAME)
			continue;
		s = elf_strptr(elf, sh->sh_link, d.d_un.d_val);
		if (s) {
			ei->soname = strdup(s);
			if (!ei->soname)
				c->nomem = true;
		}
		return;
	}
}

static void read_build_id(Elf_Scn *scn, struct elf_info *ei)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data || ei->build_id_len)
		return;
	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)data->d_buf + name_off;

		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(name, "GNU", 4) &&
		    nh.n_descsz > 0 && nh.n_descsz <= sizeof(ei->build_id)) {
			memcpy(ei->build_id, (const char *)data->d_buf + desc_off, nh.n_descsz);
			ei->build_id_len = nh.n_descsz;
			return;
		}
		off = next;
	}
}

static void add_xsec(Elf *elf, size_t shstrndx, const GElf_Shdr *sh, uintptr_t bias,
		     struct collect *c)
{
	const char *name = elf_strptr(elf, shstrndx, sh->sh_name);
	struct xsec *x;

	if (c->nomem || !sh->sh_size)
		return;
	if (c->nxs == c->xcap) {
		size_t cap = c->xcap ? c->xcap * 2 : 8;

		x = realloc(c->xs, cap * sizeof(*x));
		if (!x) {
			c->nomem = true;
			return;
		}
		c->xs = x;
		c->xcap = cap;
	}
	x = &c->xs[c->nxs++];
	x->start = bias + (uintptr_t)sh->sh_addr;
	x->end = x->start + (uintptr_t)sh->sh_size;
	x->plt = name && (!strncmp(name, ".plt", 4) || !strcmp(name, ".iplt"));
	/* Only an entry size that tiles the section describes its entries. */
	x->entsize = x->plt && sh->sh_entsize && !(sh->sh_size % sh->sh_entsize)
			 ? (size_t)sh->sh_entsize
			 : 0;
}

/*
 * @debug: a separate debug file, whose .dynsym (if any) duplicates the main
 * file's and whose notes and dynamic section we already have.
 */
static void read_elf(Elf *elf, uintptr_t bias, bool debug, struct collect *c, struct elf_info *ei)
{
	Elf_Scn *scn = NULL;
	Elf_Data *versym = NULL;
	GElf_Shdr sh;
	size_t shstrndx;

	if (elf_kind(elf) != ELF_K_ELF)
		return;
	if (elf_getshdrstrndx(elf, &shstrndx))
		shstrndx = SHN_UNDEF;
	while ((scn = elf_nextscn(elf, scn))) {
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			versym = elf_getdata(scn, NULL);
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		/* A debug file's sections say nothing about the code that runs. */
		if (!debug && sh.sh_type == SHT_PROGBITS &&
		    (sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) == (SHF_ALLOC | SHF_EXECINSTR))
			add_xsec(elf, shstrndx, &sh, bias, c);
		switch (sh.sh_type) {
		case SHT_SYMTAB:
			ei->has_symtab = true;
			read_symbols(elf, scn, &sh, NULL, bias, c);
			break;
		case SHT_DYNSYM:
			if (!debug)
				read_symbols(elf, scn, &sh, versym, bias, c);
			break;
		case SHT_DYNAMIC:
			if (!debug)
				read_soname(elf, scn, &sh, ei, c);
			break;
		case SHT_NOTE:
			if (!debug)
				read_build_id(scn, ei);
			break;
		}
	}
}

static void read_file(const char *path, uintptr_t bias, bool debug, struct collect *c,
		      struct elf_info *ei)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;

	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf) {
		read_elf(elf, bias, debug, c, ei);
		elf_end(elf);
	}
	close(fd);
}

/*
 * The vDSO's program headers do not cover its section headers, so its
 * mapping's size comes from /proc/self/maps rather than from the image.
 */
static size_t vdso_size(uintptr_t base)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	size_t size = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (!strstr(line, "[vdso]") || sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (start == base && end > start)
			size = end - start;
		break;
	}
	fclose(f);
	return size;
}

static void read_vdso(uintptr_t bias, struct collect *c, struct elf_info *ei)
{
	uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	size_t size = base ? vdso_size(base) : 0;
	char *copy;
	Elf *elf;

	if (!size)
		return;
	/* A private copy: libelf must not be handed read-only memory. */
	copy = malloc(size);
	if (!copy) {
		c->nomem = true;
		return;
	}
	memcpy(copy, (const void *)base, size);
	elf = elf_memory(copy, size);
	if (elf) {
		read_elf(elf, bias, false, c, ei);
		elf_end(elf);
	}
	free(copy);
}

static void read_debug_file(const struct elf_info *ei, uintptr_t bias, struct collect *c)
{
	char path[sizeof(DEBUG_DIR) + 2 * sizeof(ei->build_id) + 16];
	struct elf_info dei = {0};
	char *p = path;
	size_t i;

	memcpy(p, DEBUG_DIR, sizeof(DEBUG_DIR) - 1);
	p += sizeof(DEBUG_DIR) - 1;
	for (i = 0; i < ei->build_id_len; i++) {
		p += sprintf(p, "%02x", ei->build_id[i]);
		if (i == 0)
			*p++ = '/';
	}
	strcpy(p, ".debug");
	read_file(path, bias, true, c, &dei);
	free(dei.soname);
}

static unsigned leading_underscores(const char *s)
{
	unsigned n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/* Which alias names an address: sized, global, default version, fewest '_'. */
static int cmp_addr_rank(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;
	unsigned ua, ub;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (!a->size != !b->size)
		return a->size ? -1 : 1;
	if (a->bind != b->bind)
		return a->bind - b->bind;
	if ((a->flags & SYM_HIDDEN) != (b->flags & SYM_HIDDEN))
		return (a->flags & SYM_HIDDEN) ? 1 : -1;
	ua = leading_underscores(a->name);
	ub = leading_underscores(b->name);
	if (ua != ub)
		return ua < ub ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int cmp_addr_name(const void *pa, const void *pb)
{
	const struct sym *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Which definition a name means: default version (as dlsym), global, sized. */
static int cmp_name_rank(const void *pa, const void *pb)
{
	const struct sym *a = *(const struct sym *const *)pa, *b = *(const struct sym *const *)pb;
	int r = strcmp(a->name, b->name);

	if (r)
		return r;
	if ((a->flags & SYM_HIDDEN) != (b->flags & SYM_HIDDEN))
		return (a->flags & SYM_HIDDEN) ? 1 : -1;
	if (a->bind != b->bind)
		return a->bind - b->bind;
	if (!a->size != !b->size)
		return a->size ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return 0;
}

/* Turns the collected symbols into @o's sorted, deduplicated tables. */
static int cmp_xsec(const void *pa, const void *pb)
{
	const struct xsec *a = pa, *b = pb;

	return a->start < b->start ? -1 : a->start > b->start;
}

static int finish_table(struct obj *o, struct collect *c)
{
	struct sym *s;
	size_t i, n;
	uintptr_t maxend = 0;

	o->names = c->pool;
	c->pool = NULL;
	if (c->nxs)
		qsort(c->xs, c->nxs, sizeof(*c->xs), cmp_xsec);
	o->xsecs = c->xs;
	o->nxsecs = c->nxs;
	c->xs = NULL;
	if (!c->n)
		return 0;
	s = malloc(c->n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < c->n; i++) {
		s[i] = (struct sym){
		    .addr = c->v[i].addr,
		    .size = c->v[i].size,
		    .name = o->names + c->v[i].name,
		    .bind = c->v[i].bind,
		    .flags = c->v[i].flags,
		};
	}
	/* One symbol seen in .symtab, .dynsym and a debug file is one entry. */
	qsort(s, c->n, sizeof(*s), cmp_addr_name);
	for (i = 1, n = 1; i < c->n; i++) {
		struct sym *last = &s[n - 1];

		if (s[i].addr == last->addr && !strcmp(s[i].name, last->name)) {
			if (s[i].size > last->size)
				last->size = s[i].size;
			if (s[i].bind < last->bind)
				last->bind = s[i].bind;
			/* memcpy@@V2 and memcpy@V1 at one address: the default. */
			last->flags = ((last->flags | s[i].flags) & (SYM_IFUNC | SYM_DATA)) |
				      (last->flags & s[i].flags & SYM_HIDDEN);
			continue;
		}
		s[n++] = s[i];
	}
	qsort(s, n, sizeof(*s), cmp_addr_rank);
	for (i = 0; i < n; i++) {
		if (s[i].addr + s[i].size > maxend)
			maxend = s[i].addr + s[i].size;
		s[i].maxend = maxend;
	}
	o->by_name = malloc(n * sizeof(*o->by_name));
	if (!o->by_name) {
		free(s);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		o->by_name[i] = &s[i];
	qsort(o->by_name, n, sizeof(*o->by_name), cmp_name_rank);
	o->syms = s;
	o->nsyms = n;
	return 0;
}

void pk_symtab_free(struct obj *o)
{
	if (!o)
		return;
	free(o->path);
	free(o->soname);
	free(o->segs);
	free(o->xsecs);
	free(o->syms);
	free(o->by_name);
	free(o->names);
	free(o);
}

int pk_symtab_build(const struct ent *e, struct obj **out)
{
	struct collect c = {0};
	struct elf_info ei = {0};
	struct obj *o;
	const char *slash;
	size_t i;
	int err;

	/* Callers hold sym.c's lock, which also guards this. */
	if (!elf_ready) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -ENOMEM;
		elf_ready = true;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->path = strdup(e->path);
	o->segs = calloc(e->phnum ? e->phnum : 1, sizeof(*o->segs));
	if (!o->path || !o->segs) {
		pk_symtab_free(o);
		return -ENOMEM;
	}
	slash = strrchr(o->path, '/');
	o->base = slash ? slash + 1 : o->path;
	o->bias = e->bias;
	o->is_exe = e->is_exe;
	o->is_vdso = e->is_vdso;
	o->lo = UINTPTR_MAX;
	for (i = 0; i < e->phnum; i++) {
		const ElfW(Phdr) *ph = &e->phdr[i];
		struct seg *sg;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		sg = &o->segs[o->nsegs++];
		sg->start = e->bias + ph->p_vaddr;
		sg->end = sg->start + ph->p_memsz;
		sg->exec = ph->p_flags & PF_X;
		if (sg->start < o->lo)
			o->lo = sg->start;
		if (sg->end > o->hi)
			o->hi = sg->end;
	}
	if (!o->nsegs)
		o->lo = 0;

	/* An unreadable file leaves the object without symbols, not an error. */
	if (e->is_vdso)
		read_vdso(e->bias, &c, &ei);
	else if (*e->path)
		read_file(e->path, e->bias, false, &c, &ei);
	if (!ei.has_symtab && ei.build_id_len)
		read_debug_file(&ei, e->bias, &c);
	o->soname = ei.soname;
	err = c.nomem ? -ENOMEM : finish_table(o, &c);
	free(c.v);
	free(c.pool);
	free(c.xs);
	if (err) {
		pk_symtab_free(o);
		return err;
	}
	*out = o;
	return 0;
}
