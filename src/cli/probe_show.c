// SPDX-License-Identifier: MIT
/*
 * What can be probed, as perf probe shows it: -L a function's (or a file's)
 * source with the lines that have code numbered, -V the variables available
 * at each address of a probe point, -F the functions. Also the variables in
 * scope at a point, which $params and $vars expand to.
 */
#include <dwarf.h>
#include <errno.h>
#include <fnmatch.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/probe_int.h"

struct seen {
	const char *names[256];
	int n;
};

static int once(struct seen *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return 0;
	if (s->n < 256)
		s->names[s->n++] = name;
	return 1;
}

static int scope_vars(Dwarf_Die *scope, Dwarf_Addr addr, int params_only, struct seen *s,
		      pk_var_fn fn, void *arg)
{
	Dwarf_Die child;
	int ret;

	if (dwarf_child(scope, &child))
		return 0;
	do {
		int tag = dwarf_tag(&child);
		const char *name = dwarf_diename(&child);

		if ((tag == DW_TAG_formal_parameter || (!params_only && tag == DW_TAG_variable)) &&
		    name && !dwarf_hasattr(&child, DW_AT_declaration) && once(s, name)) {
			ret = fn(arg, &child);
			if (ret)
				return ret;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	if (params_only)
		return 0;
	dwarf_child(scope, &child);
	do {
		if (dwarf_tag(&child) == DW_TAG_lexical_block && dwarf_haspc(&child, addr) == 1) {
			ret = scope_vars(&child, addr, 0, s, fn, arg);
			if (ret)
				return ret;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

int pk_pp_vars_at(const struct pk_ppoint *p, int params_only, pk_var_fn fn, void *arg)
{
	struct seen s = {.n = 0};

	return scope_vars((Dwarf_Die *)&p->inst, p->addr, params_only, &s, fn, arg);
}

int pk_pp_var_available(const struct pk_ppoint *p, Dwarf_Die *var)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t len;

	if (dwarf_attr_integrate(var, DW_AT_location, &a))
		return dwarf_getlocation_addr(&a, p->addr, &ops, &len, 1) == 1 && len > 0;
	return dwarf_attr_integrate(var, DW_AT_const_value, &a) != NULL;
}

static void type_str(Dwarf_Die *t, char *buf, size_t n, int depth)
{
	Dwarf_Attribute a;
	Dwarf_Die inner;
	const char *name = dwarf_diename(t);
	int has = dwarf_attr_integrate(t, DW_AT_type, &a) && dwarf_formref_die(&a, &inner);
	Dwarf_Word total = 0, esize = 0;

	if (depth > 8) {
		snprintf(buf, n, "?");
		return;
	}
	switch (dwarf_tag(t)) {
	case DW_TAG_pointer_type:
		if (has)
			type_str(&inner, buf, n, depth + 1);
		else
			snprintf(buf, n, "void");
		strncat(buf, "*", n - strlen(buf) - 1);
		return;
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
		if (has)
			type_str(&inner, buf, n, depth + 1);
		else
			snprintf(buf, n, "void");
		return;
	case DW_TAG_structure_type: snprintf(buf, n, "struct %s", name ? name : ""); return;
	case DW_TAG_union_type: snprintf(buf, n, "union %s", name ? name : ""); return;
	case DW_TAG_enumeration_type: snprintf(buf, n, "enum %s", name ? name : ""); return;
	case DW_TAG_array_type:
		if (has)
			type_str(&inner, buf, n, depth + 1);
		if (has && !dwarf_aggregate_size(t, &total) &&
		    !dwarf_aggregate_size(&inner, &esize) && esize)
			snprintf(buf + strlen(buf), n - strlen(buf), "[%lu]",
				 (unsigned long)(total / esize));
		else
			strncat(buf, "[]", n - strlen(buf) - 1);
		return;
	case DW_TAG_subroutine_type: snprintf(buf, n, "func"); return;
	}
	snprintf(buf, n, "%s", name ? name : "?");
}

void pk_pp_type_name(Dwarf_Die *var, char *buf, size_t n)
{
	Dwarf_Attribute a;
	Dwarf_Die t;

	buf[0] = 0;
	if (dwarf_attr_integrate(var, DW_AT_type, &a) && dwarf_formref_die(&a, &t))
		type_str(&t, buf, n, 0);
	else
		snprintf(buf, n, "?");
}

/* -V */
struct vlist {
	char **lines;
	int n;
	const struct pk_ppoint *p;
	FILE *out;
};

static int add_line(void *arg, Dwarf_Die *var)
{
	struct vlist *v = arg;
	char type[128], *line, **nl;

	if (!pk_pp_var_available(v->p, var))
		return 0;
	pk_pp_type_name(var, type, sizeof(type));
	if (asprintf(&line, "\t\t%s\t%s", type, dwarf_diename(var)) < 0)
		return -ENOMEM;
	nl = realloc(v->lines, (size_t)(v->n + 1) * sizeof(*nl));
	if (!nl) {
		free(line);
		return -ENOMEM;
	}
	v->lines = nl;
	v->lines[v->n++] = line;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int show_point(void *arg, const struct pk_ppoint *p)
{
	struct vlist v = {.p = p, .out = ((struct vlist *)arg)->out};
	const char *fn = dwarf_diename((Dwarf_Die *)&p->func);
	Dwarf_Addr low = 0;
	int i, ret;

	dwarf_entrypc((Dwarf_Die *)&p->func, &low);
	fprintf(v.out, "\t@<%s+%lu>\n", fn ? fn : "?", (unsigned long)(p->addr - low));
	ret = pk_pp_vars_at(p, 0, add_line, &v);
	qsort(v.lines, (size_t)v.n, sizeof(*v.lines), cmp_str);
	for (i = 0; i < v.n; i++) {
		fprintf(v.out, "%s\n", v.lines[i]);
		free(v.lines[i]);
	}
	if (!v.n)
		fprintf(v.out, "\t\t(No matched variables)\n");
	free(v.lines);
	return ret;
}

int pk_pp_show_vars(struct pk_dbg *d, const struct pk_pp *pp, FILE *out, char *why, size_t n)
{
	struct vlist v = {.out = out};
	struct pk_pp q = *pp;

	/* As perf -V: a function's own entry, not past its prologue. */
	if (q.func && q.line < 0 && !q.lazy && !q.has_offset)
		q.has_offset = 1;
	fprintf(out, "Available variables at %s\n", pp->point);
	return pk_pp_points(d, &q, show_point, &v, why, n);
}

/* -L */
struct lines_ctx {
	const char *file; /* the source's path */
	int lo, hi;	  /* the lines of the range with code */
	unsigned char *has;
	int nhas;
	struct pk_dbg *d;
	const struct pk_pp_range *r;
};

static void mark(struct lines_ctx *c, int line)
{
	if (line >= 0 && line < c->nhas)
		c->has[line] = 1;
	if (line > c->hi)
		c->hi = line;
}

static int mark_rows(Dwarf_Die *cu, struct lines_ctx *c, Dwarf_Die *inst)
{
	Dwarf_Lines *lines;
	size_t n, i;
	Dwarf_Addr a;
	int l;

	if (dwarf_getsrclines(cu, &lines, &n))
		return 0;
	for (i = 0; i < n; i++) {
		const char *src;

		if (!pk_pp_stmt_row(lines, i, &src, &a, &l))
			continue;
		if (inst ? dwarf_haspc(inst, a) == 1 && !strcmp(src, c->file)
			 : pk_pp_file_match(src, c->r->file)) {
			Dwarf_Addr entry;

			/* As perf: the entry is the function's line 0, its declaration. */
			if (inst && !dwarf_entrypc(inst, &entry) && entry == a)
				dwarf_decl_line(inst, &l);
			if (!inst && !c->file)
				c->file = strdup(src);
			if (!inst && strcmp(src, c->file))
				continue;
			mark(c, l);
		}
	}
	return 0;
}

static int func_range(void *arg, const struct pk_ppoint *p)
{
	struct lines_ctx *c = arg;
	int decl = 0;

	if (!p->file)
		return 0;
	if (!c->file) {
		c->file = strdup(p->file);
		if (!dwarf_decl_line((Dwarf_Die *)&p->inst, &decl))
			c->lo = decl;
	}
	if (strcmp(c->file, p->file))
		return 0;
	return mark_rows((Dwarf_Die *)&p->cu, c, (Dwarf_Die *)&p->inst);
}

int pk_pp_show_lines(struct pk_dbg *d, const struct pk_pp_range *r, FILE *out, char *why, size_t n)
{
	struct lines_ctx c = {.d = d, .r = r, .nhas = 1 << 20};
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die cu;
	FILE *src;
	char buf[4096];
	int line = 0, from, to, ret = 0;

	c.has = calloc((size_t)c.nhas, 1);
	if (!c.has)
		return -ENOMEM;
	if (r->func) {
		pk_pp_instances(d, r->func, r->file, func_range, &c);
		if (!c.file) {
			free(c.has);
			return pk_pp_fail(why, n, -ENOENT, "no function '%s' in the DWARF of %s",
					  r->func, d->debug_path);
		}
		from = c.lo + r->start;
		to = r->end >= 0 ? c.lo + r->end : c.hi;
	} else {
		while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
			if (dwarf_offdie(d->dw, off + hsize, &cu))
				mark_rows(&cu, &c, NULL);
			off = next;
		}
		if (!c.file) {
			free(c.has);
			return pk_pp_fail(why, n, -ENOENT, "no source file '%s' in the DWARF of %s",
					  r->file, d->debug_path);
		}
		from = r->start ? r->start : 1;
		to = r->end >= 0 ? r->end : c.hi;
	}
	src = fopen(c.file, "re");
	if (!src) {
		ret = pk_pp_fail(why, n, -ENOENT, "cannot read the source %s (built elsewhere?)",
				 c.file);
		goto out;
	}
	if (r->func)
		fprintf(out, "<%s@%s:%d>\n", r->func, c.file, r->start);
	else
		fprintf(out, "<%s:%d>\n", c.file, from);
	while (fgets(buf, sizeof(buf), src) && ++line <= to) {
		if (line < from)
			continue;
		if (line < c.nhas && c.has[line])
			fprintf(out, "%7d  %s", r->func ? line - c.lo : line, buf);
		else
			fprintf(out, "         %s", buf);
	}
	fclose(src);
out:
	free((char *)c.file);
	free(c.has);
	return ret;
}

/* -F */
int pk_pp_show_funcs(struct pk_dbg *d, const char *filter, FILE *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	char **names = NULL;
	size_t nn = 0, i;

	while ((scn = elf_nextscn(d->elf, scn))) {
		Elf_Data *data;
		GElf_Sym sym;
		size_t k, count;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (k = 0; data && k < count; k++) {
			const char *name;
			char **nv;

			if (!gelf_getsym(data, (int)k, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(d->elf, sh.sh_link, sym.st_name);
			if (!name || !*name)
				continue;
			if (filter ? fnmatch(filter, name, 0) : name[0] == '_')
				continue;
			nv = realloc(names, (nn + 1) * sizeof(*nv));
			if (!nv)
				break;
			names = nv;
			names[nn++] = (char *)name;
		}
	}
	qsort(names, nn, sizeof(*names), cmp_str);
	for (i = 0; i < nn; i++)
		if (!i || strcmp(names[i], names[i - 1]))
			fprintf(out, "%s\n", names[i]);
	free(names);
	return 0;
}
