// SPDX-License-Identifier: MIT
/*
 * The addresses a perf probe point stands for: a function's entry in each of
 * its instances (the out-of-line copy and every inlined one, as perf probe
 * does), past the prologue in code built without optimization (where the
 * parameters reach their stack slots only there), an offset from it, the
 * line-table rows of a line (relative to the function, absolute in a
 * file, or the lines matching a lazy pattern).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/probe_int.h"

struct walk {
	struct pk_dbg *d;
	const char *name, *file;
	pk_ppoint_fn fn;
	void *arg;
	Dwarf_Die cu;
};

static int has_code(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

static int visit(struct walk *w, Dwarf_Die *die, Dwarf_Die *func)
{
	int tag = dwarf_tag(die), ret = 0;
	Dwarf_Die child, *outer = func;
	const char *name;

	if ((tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) && has_code(die)) {
		if (tag == DW_TAG_subprogram)
			outer = die;
		name = dwarf_diename(die);
		if (name && !strcmp(name, w->name) && outer &&
		    (!w->file ||
		     (dwarf_decl_file(die) && pk_pp_file_match(dwarf_decl_file(die), w->file)))) {
			struct pk_ppoint p = {.inst = *die, .func = *outer, .cu = w->cu};

			p.name = name;
			p.file = dwarf_decl_file(die);
			p.inlined = tag == DW_TAG_inlined_subroutine;
			if (dwarf_entrypc(die, &p.addr) == 0) {
				ret = w->fn(w->arg, &p);
				if (ret)
					return ret;
			}
		}
	} else if (tag != DW_TAG_lexical_block && tag != DW_TAG_compile_unit &&
		   tag != DW_TAG_partial_unit && tag != DW_TAG_namespace) {
		return 0;
	}
	if (dwarf_child(die, &child) == 0) {
		do
			ret = visit(w, &child, outer);
		while (!ret && dwarf_siblingof(&child, &child) == 0);
	}
	return ret;
}

/* Calls @fn for each compile unit of @d. */
static int each_cu(struct pk_dbg *d, int (*fn)(void *arg, Dwarf_Die *cu), void *arg)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die cu;
	int ret;

	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(d->dw, off + hsize, &cu)) {
			ret = fn(arg, &cu);
			if (ret)
				return ret;
		}
		off = next;
	}
	return 0;
}

static int instances_in_cu(void *arg, Dwarf_Die *cu)
{
	struct walk *w = arg;

	w->cu = *cu;
	return visit(w, cu, NULL);
}

int pk_pp_instances(struct pk_dbg *d, const char *name, const char *file, pk_ppoint_fn fn,
		    void *arg)
{
	struct walk w = {.d = d, .name = name, .file = file, .fn = fn, .arg = arg};

	return each_cu(d, instances_in_cu, &w);
}

/* Has the CU been optimized? gcc gives some variable a location list then. */
static int cu_optimized(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Die child;
	int form;

	if (dwarf_attr(die, DW_AT_location, &a)) {
		form = dwarf_whatform(&a);
		if (form == DW_FORM_sec_offset || form == DW_FORM_loclistx ||
		    form == DW_FORM_data4 || form == DW_FORM_data8)
			return 1;
	}
	if (dwarf_child(die, &child) == 0) {
		do
			if (cu_optimized(&child))
				return 1;
		while (dwarf_siblingof(&child, &child) == 0);
	}
	return 0;
}

static int has_params(Dwarf_Die *func)
{
	Dwarf_Die child;

	if (dwarf_child(func, &child))
		return 0;
	do
		if (dwarf_tag(&child) == DW_TAG_formal_parameter)
			return 1;
	while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/* The first address after the prologue: the function's next line-table row. */
static Dwarf_Addr past_prologue(const struct pk_ppoint *p)
{
	Dwarf_Lines *lines;
	size_t n, i;
	Dwarf_Addr a, best = 0;
	int l;

	if (dwarf_getsrclines((Dwarf_Die *)&p->cu, &lines, &n))
		return p->addr;
	for (i = 0; i < n; i++) {
		Dwarf_Line *ln = dwarf_onesrcline(lines, i);
		bool stmt = true;

		if (dwarf_lineaddr(ln, &a) || dwarf_lineno(ln, &l))
			continue;
		dwarf_linebeginstatement(ln, &stmt);
		if (a > p->addr && stmt && dwarf_haspc((Dwarf_Die *)&p->inst, a) &&
		    (!best || a < best))
			best = a;
	}
	return best ? best : p->addr;
}

/* The instances of a function probed at their entry (past the prologue) or at +OFFS. */
struct entry_ctx {
	const struct pk_pp *pp;
	pk_ppoint_fn fn;
	void *arg;
	int found;
	int optimized_known, optimized;
};

static int entry_point(void *arg, const struct pk_ppoint *p)
{
	struct entry_ctx *c = arg;
	struct pk_ppoint q = *p;

	c->found++;
	if (c->pp->has_offset) {
		q.addr += c->pp->offset;
	} else if (!c->pp->retprobe && !p->inlined) {
		/* As perf: only where parameters wait for the prologue to store them. */
		if (has_params((Dwarf_Die *)&p->inst) && !cu_optimized((Dwarf_Die *)&p->cu))
			q.addr = past_prologue(p);
	}
	return c->fn(c->arg, &q);
}

/* Line-table rows: every statement row of line @line in @file (or of @inst's file) within @inst. */
struct line_ctx {
	struct pk_dbg *d;
	const struct pk_pp *pp;
	pk_ppoint_fn fn;
	void *arg;
	int found;
	int instances; /* of the function, for a line relative to it */
	char *why;
	size_t n;
};

static int innermost(Dwarf_Die *die, Dwarf_Addr a, const Dwarf_Die *func, struct pk_ppoint *p)
{
	int tag = dwarf_tag(die), found = 0;
	Dwarf_Die child, here;

	if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
		if (!has_code(die) || dwarf_haspc(die, a) != 1)
			return 0;
		if (tag == DW_TAG_subprogram) {
			here = *die;
			func = &here;
		}
		if (!func)
			return 0;
		p->inst = *die;
		p->func = *func;
		p->inlined = tag == DW_TAG_inlined_subroutine;
		found = 1;
	} else if (tag == DW_TAG_lexical_block) {
		if (dwarf_haspc(die, a) != 1)
			return 0;
	} else if (tag != DW_TAG_compile_unit && tag != DW_TAG_partial_unit &&
		   tag != DW_TAG_namespace) {
		return 0;
	}
	if (dwarf_child(die, &child) == 0) {
		do
			if (innermost(&child, a, func, p))
				return 1;
		while (dwarf_siblingof(&child, &child) == 0);
	}
	return found;
}

static int emit_row(struct line_ctx *c, Dwarf_Die *cu, Dwarf_Addr a, int line, Dwarf_Die *inst,
		    Dwarf_Die *func, int inlined)
{
	struct pk_ppoint p = {.addr = a, .cu = *cu, .line = line};

	if (inst) {
		p.inst = *inst;
		p.func = *func;
		p.inlined = inlined;
	} else if (!innermost(cu, a, NULL, &p)) {
		return 0;
	}
	p.name = dwarf_diename(&p.inst);
	p.file = dwarf_decl_file(&p.inst);
	if (!p.name)
		return 0;
	c->found++;
	return c->fn(c->arg, &p);
}

/* Is source line @line of @path matched by the lazy pattern (spaces ignored on both sides)? */
static int lazy_match(const char *pattern, const char *path, int line, char *cache_path,
		      char ***cache_lines, int *cache_n)
{
	char pat[1024], text[4096];
	size_t i, o;
	const char *s;

	if (strcmp(cache_path, path)) {
		FILE *f = fopen(path, "re");
		char buf[4096], **v = NULL;
		int k = 0;

		for (i = 0; i < (size_t)*cache_n; i++)
			free((*cache_lines)[i]);
		free(*cache_lines);
		*cache_lines = NULL;
		*cache_n = 0;
		snprintf(cache_path, PATH_MAX, "%s", path);
		while (f && fgets(buf, sizeof(buf), f)) {
			char **nv = realloc(v, (size_t)(k + 1) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
			v[k++] = strdup(buf);
		}
		if (f)
			fclose(f);
		*cache_lines = v;
		*cache_n = k;
	}
	if (line < 1 || line > *cache_n || !(*cache_lines)[line - 1])
		return 0;
	for (s = pattern, o = 0; *s && o < sizeof(pat) - 1; s++)
		if (*s != ' ' && *s != '\t')
			pat[o++] = *s;
	pat[o] = 0;
	for (s = (*cache_lines)[line - 1], o = 0; *s && o < sizeof(text) - 1; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			text[o++] = *s;
	text[o] = 0;
	return fnmatch(pat, text, 0) == 0;
}

struct rows {
	struct line_ctx *c;
	const struct pk_ppoint *inst; /* NULL: a file's lines, any function */
	int line;		      /* the absolute line, or -1 for a lazy pattern */
	char src[PATH_MAX];
	char **src_lines;
	int src_n;
};

/* See probe_int.h. */
int pk_pp_stmt_row(Dwarf_Lines *lines, size_t i, const char **src, Dwarf_Addr *a, int *line)
{
	Dwarf_Line *ln = dwarf_onesrcline(lines, i);
	bool stmt = true, end = false;

	*src = dwarf_linesrc(ln, NULL, NULL);
	dwarf_linebeginstatement(ln, &stmt);
	dwarf_lineendsequence(ln, &end);
	return *src && stmt && !end && !dwarf_lineaddr(ln, a) && !dwarf_lineno(ln, line);
}

static int scan_rows(struct rows *r, Dwarf_Die *cu)
{
	const struct pk_pp *pp = r->c->pp;
	const char *want = r->inst ? r->inst->file : pp->file;
	Dwarf_Addr a, last = (Dwarf_Addr)-1;
	Dwarf_Lines *lines;
	size_t n, i;
	int l, ret;

	if (dwarf_getsrclines(cu, &lines, &n))
		return 0;
	for (i = 0; i < n; i++) {
		const char *src;

		if (!want || !pk_pp_stmt_row(lines, i, &src, &a, &l) || a == last)
			continue;
		/* As perf: a function's entry is its line 0, the declaration's. */
		if (r->inst && a == r->inst->addr)
			dwarf_decl_line((Dwarf_Die *)&r->inst->inst, &l);
		if (r->line >= 0 ? l != r->line
				 : !lazy_match(pp->lazy, src, l, r->src, &r->src_lines, &r->src_n))
			continue;
		if (!pk_pp_file_match(src, want) && !(r->inst && !strcmp(src, want)))
			continue;
		if (r->inst && dwarf_haspc((Dwarf_Die *)&r->inst->inst, a) != 1)
			continue;
		last = a;
		ret = r->inst ? emit_row(r->c, cu, a, l, (Dwarf_Die *)&r->inst->inst,
					 (Dwarf_Die *)&r->inst->func, r->inst->inlined)
			      : emit_row(r->c, cu, a, l, NULL, NULL, 0);
		if (ret)
			return ret;
	}
	return 0;
}

static void rows_free(struct rows *r)
{
	int i;

	for (i = 0; i < r->src_n; i++)
		free(r->src_lines[i]);
	free(r->src_lines);
}

static int func_rows(void *arg, const struct pk_ppoint *p)
{
	struct line_ctx *c = arg;
	struct rows r = {.c = c, .inst = p, .line = -1};
	int decl = 0, ret;

	c->instances++;
	if (c->pp->line >= 0) {
		if (dwarf_decl_line((Dwarf_Die *)&p->inst, &decl))
			return 0;
		r.line = decl + c->pp->line;
	}
	ret = scan_rows(&r, (Dwarf_Die *)&p->cu);
	rows_free(&r);
	return ret;
}

static int file_rows(void *arg, Dwarf_Die *cu)
{
	struct line_ctx *c = arg;
	struct rows r = {.c = c, .line = c->pp->lazy ? -1 : c->pp->line};
	int ret = scan_rows(&r, cu);

	rows_free(&r);
	return ret;
}

int pk_pp_points(struct pk_dbg *d, const struct pk_pp *pp, pk_ppoint_fn fn, void *arg, char *why,
		 size_t n)
{
	int ret;

	if (pp->func && pp->line < 0 && !pp->lazy) {
		struct entry_ctx c = {.pp = pp, .fn = fn, .arg = arg};

		ret = pk_pp_instances(d, pp->func, pp->file, entry_point, &c);
		if (!ret && !c.found)
			ret = pk_pp_fail(why, n, -ENOENT, "no function '%s'%s%s in the DWARF of %s",
					 pp->func, pp->file ? " declared in " : "",
					 pp->file ? pp->file : "", d->debug_path);
		return ret;
	}
	struct line_ctx c = {.d = d, .pp = pp, .fn = fn, .arg = arg, .why = why, .n = n};

	if (pp->func)
		ret = pk_pp_instances(d, pp->func, pp->file, func_rows, &c);
	else
		ret = each_cu(d, file_rows, &c);
	if (!ret && pp->func && !c.instances)
		return pk_pp_fail(why, n, -ENOENT, "no function '%s' in the DWARF of %s", pp->func,
				  d->debug_path);
	if (!ret && !c.found) {
		if (pp->lazy)
			return pk_pp_fail(
			    why, n, -ENOENT,
			    "no line of %s matches ';%s' (or its source file cannot be "
			    "read)",
			    pp->func ? pp->func : pp->file, pp->lazy);
		return pk_pp_fail(why, n, -ENOENT, "no code at line %d of %s%s", pp->line,
				  pp->func ? pp->func : pp->file,
				  pp->func ? " (counted from its declaration)" : "");
	}
	return ret;
}
