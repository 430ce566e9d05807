// SPDX-License-Identifier: MIT
/*
 * A perf probe definition made into kprobe_events lines: one per address it
 * stands for, on the object's file offset ("p:probe_main/callee
 * /path/main:0x1139 a=%di:s32"), named as perf names them (the function,
 * "_L3" for a line relative to it, "__return", then "_1", "_2"... for each
 * further address), with perf's "-l" description of each.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/probe_int.h"

#define DEF_MAX 4096

struct derive {
	struct pk_dbg *d;
	const struct pk_pp *pp;
	pk_pp_emit_fn emit;
	void *arg;
	char *why;
	size_t n;
	char **names;
	int nnames;
	int inlined_skipped;
	char **out; /* definition and description pairs, emitted once all are made */
	int nout;
	char def[DEF_MAX];
	size_t len;
};

static int append(struct derive *c, const char *s)
{
	size_t l = strlen(s);

	if (c->len + l + 2 > sizeof(c->def))
		return pk_pp_fail(c->why, c->n, -E2BIG, "the definition is longer than %d bytes",
				  DEF_MAX);
	c->def[c->len++] = ' ';
	memcpy(c->def + c->len, s, l + 1);
	c->len += l;
	return 0;
}

struct each_var {
	struct derive *c;
	const struct pk_ppoint *p;
	int err;
};

static int add_var(void *arg, Dwarf_Die *var)
{
	struct each_var *e = arg;
	struct pk_pp_arg a = {.expr = (char *)dwarf_diename(var)};
	char out[512], why[PK_PP_WHY];

	a.text = a.expr;
	if (!a.expr || !pk_pp_var_available(e->p, var))
		return 0;
	/* As perf's $vars: what cannot be fetched is left out, not an error. */
	if (pk_pp_fetch(e->c->d, e->p, &a, out, sizeof(out), why, sizeof(why)))
		return 0;
	e->err = append(e->c, out);
	return e->err;
}

/* An event name not given yet in this derivation: @base, else base_1, base_2... */
static int unique_name(struct derive *c, const char *base, char *out, size_t n)
{
	int i, k;
	char **v;

	for (k = 0;; k++) {
		if (k)
			snprintf(out, n, "%s_%d", base, k);
		else
			snprintf(out, n, "%s", base);
		for (i = 0; i < c->nnames && strcmp(c->names[i], out); i++)
			;
		if (i == c->nnames)
			break;
	}
	v = realloc(c->names, (size_t)(c->nnames + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->names = v;
	c->names[c->nnames] = strdup(out);
	return c->names[c->nnames++] ? 0 : -ENOMEM;
}

/* perf's "-l" text: where the probe is, by function and source, and its arguments. */
static void describe(struct derive *c, const struct pk_ppoint *p, const char *group,
		     const char *event, char *out, size_t n)
{
	const struct pk_pp *pp = c->pp;
	char point[256], with[1024] = "", name[2 * 64 + 2];
	size_t o = 0;
	int decl = 0, i;

	if (pp->retprobe)
		snprintf(point, sizeof(point), "%s%%return", p->name);
	else if (pp->has_offset)
		snprintf(point, sizeof(point), "%s+%lu", p->name, pp->offset);
	else if (p->line && !dwarf_decl_line((Dwarf_Die *)&p->inst, &decl))
		snprintf(point, sizeof(point), "%s:%d", p->name, p->line - decl);
	else
		snprintf(point, sizeof(point), "%s", p->name);
	for (i = 0; i < pp->nargs && o < sizeof(with); i++)
		o += (size_t)snprintf(with + o, sizeof(with) - o, "%s%s", i ? " " : " with ",
				      pp->args[i].text);
	if (snprintf(name, sizeof(name), "%s:%s", group, event) >= (int)sizeof(name) ||
	    snprintf(out, n, "  %-20s (on %s@%s in %s%s)", name, point, p->file ? p->file : "?",
		     c->d->path, with) >= (int)n)
		out[n - 1] = 0;
}

static int keep(struct derive *c, const char *def, const char *desc)
{
	char **v = realloc(c->out, (size_t)(c->nout + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->out = v;
	v[c->nout] = strdup(def);
	v[c->nout + 1] = strdup(desc);
	c->nout += 2;
	return v[c->nout - 2] && v[c->nout - 1] ? 0 : -ENOMEM;
}

static int one_point(void *arg, const struct pk_ppoint *p)
{
	struct derive *c = arg;
	const struct pk_pp *pp = c->pp;
	const char *group = pp->group ? pp->group : c->d->group;
	char base[128], event[160], desc[4096], fetch[512];
	unsigned long off;
	int i, ret;

	if (pp->retprobe && p->inlined) {
		c->inlined_skipped++;
		return 0;
	}
	if (pk_dbg_offset(c->d, p->addr, &off))
		return pk_pp_fail(c->why, c->n, -ERANGE,
				  "%s at 0x%lx is not in an executable segment of %s", p->name,
				  (unsigned long)p->addr, c->d->path);
	/* perf adds "__return" to a name given for a return probe too. */
	if (pp->retprobe)
		snprintf(base, sizeof(base), "%s__return", pp->event ? pp->event : p->name);
	else if (pp->event)
		snprintf(base, sizeof(base), "%s", pp->event);
	else if (pp->func && pp->line >= 0)
		snprintf(base, sizeof(base), "%s_L%d", p->name, pp->line);
	else
		snprintf(base, sizeof(base), "%s", p->name);
	/* An event name follows C identifier rules ("operator<", "f.part.0" do not). */
	for (i = 0; base[i]; i++)
		if (!isalnum((unsigned char)base[i]) && base[i] != '_')
			base[i] = '_';
	ret = unique_name(c, base, event, sizeof(event));
	if (ret)
		return ret;
	c->len = (size_t)snprintf(c->def, sizeof(c->def), "%c:%s/%s %s:0x%lx",
				  pp->retprobe ? 'r' : 'p', group, event, c->d->path, off);
	for (i = 0; i < pp->nargs; i++) {
		const struct pk_pp_arg *a = &pp->args[i];

		if (!strcmp(a->expr, "$params") || !strcmp(a->expr, "$vars")) {
			struct each_var e = {.c = c, .p = p};

			if (pp->retprobe)
				return pk_pp_fail(c->why, c->n, -EINVAL,
						  "%s: no local variable on a return probe",
						  a->text);
			pk_pp_vars_at(p, !strcmp(a->expr, "$params"), add_var, &e);
			if (e.err)
				return e.err;
			continue;
		}
		if (pp->retprobe && a->expr[0] != '$' && !strchr("%@+-\\", a->expr[0]))
			return pk_pp_fail(c->why, c->n, -EINVAL,
					  "'%s': no local variable on a return probe (only "
					  "$retval, registers, memory)",
					  a->text);
		ret = pk_pp_fetch(c->d, p, a, fetch, sizeof(fetch), c->why, c->n);
		if (ret)
			return ret;
		ret = append(c, fetch);
		if (ret)
			return ret;
	}
	describe(c, p, group, event, desc, sizeof(desc));
	return keep(c, c->def, desc);
}

int pk_pp_derive(struct pk_dbg *d, const struct pk_pp *pp, pk_pp_emit_fn emit, void *arg, char *why,
		 size_t n)
{
	struct derive c = {.d = d, .pp = pp, .emit = emit, .arg = arg, .why = why, .n = n};
	int ret, i;

	if (pp->retprobe && (pp->has_offset || pp->line >= 0))
		return pk_pp_fail(why, n, -EINVAL, "%%return is for a function's entry only");
	ret = pk_pp_points(d, pp, one_point, &c, why, n);
	if (!ret && !c.nnames && c.inlined_skipped)
		ret = pk_pp_fail(why, n, -ENOENT,
				 "%s is inlined everywhere (%d copies): an inlined copy has no "
				 "return to probe; probe its lines instead",
				 pp->func, c.inlined_skipped);
	/* All or nothing, as perf: no definition when one address fails. */
	for (i = 0; !ret && i < c.nout; i += 2)
		ret = emit(arg, c.out[i], c.out[i + 1]);
	for (i = 0; i < c.nout; i++)
		free(c.out[i]);
	free(c.out);
	for (i = 0; i < c.nnames; i++)
		free(c.names[i]);
	free(c.names);
	return ret;
}
