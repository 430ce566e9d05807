// SPDX-License-Identifier: MIT
/*
 * Names in hist triggers: a field's name as the kernel prints it, a
 * modifier's, an event's "GROUP/EVENT", and the variables a reference
 * ($var, SYSTEM.EVENT.var) names, looked up where find_event_var() looks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/hist_int.h"

const char *hist_field_name(const struct hfield *f, unsigned int level)
{
	static char full[HIST_STR_MAX];

	if (!f || level > 1)
		return "";
	if (f->arg >= 0 && !(f->flags & (HF_LOG2 | HF_BUCKET)))
		return f->fname ? f->fname : "";
	if (f->arg == ARG_PID && !(f->flags & (HF_LOG2 | HF_BUCKET)))
		return "common_pid";
	if (f->arg == ARG_COMM)
		return "comm";
	if (f->flags & (HF_LOG2 | HF_ALIAS | HF_BUCKET))
		return hist_field_name(f->operands[0], level + 1);
	if (f->flags & HF_CPU)
		return "common_cpu";
	if (f->flags & (HF_EXPR | HF_REF)) {
		if (f->system) {
			snprintf(full, sizeof(full), "%s.%s.%s", f->system, f->event, f->name);
			return full;
		}
		return f->name ? f->name : "";
	}
	if (f->flags & HF_TIMESTAMP)
		return "common_timestamp";
	if (f->flags & HF_HITCOUNT)
		return "hitcount";
	if (f->flags & HF_STACKTRACE)
		return "common_stacktrace";
	return "";
}

const char *hist_flag_name(unsigned long fl)
{
	static const struct {
		unsigned long fl;
		const char *s;
	} names[] = {{HF_HEX, "hex"},
		     {HF_SYM, "sym"},
		     {HF_SYM_OFFSET, "sym-offset"},
		     {HF_EXECNAME, "execname"},
		     {HF_LOG2, "log2"},
		     {HF_BUCKET, "buckets"},
		     {HF_USECS, "usecs"},
		     {HF_PERCENT, "percent"},
		     {HF_GRAPH, "graph"},
		     {HF_STACKTRACE, "stacktrace"}};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fl & names[i].fl)
			return names[i].s;
	return NULL;
}

struct hevent *hist_find_event(struct pk_hist *h, const char *name, size_t len, char sep)
{
	const char *s = memchr(name, sep, len);
	unsigned int i;

	for (i = 0; i < h->nev; i++) {
		const struct pk_event_def *d = h->ev[i].def;

		if (s) {
			size_t gl = (size_t)(s - name), el = len - gl - 1;

			if (strlen(d->group) == gl && !memcmp(d->group, name, gl) &&
			    strlen(d->event) == el && !memcmp(d->event, s + 1, el))
				return &h->ev[i];
		} else if (strlen(d->event) == len && !memcmp(d->event, name, len)) {
			return &h->ev[i];
		}
	}
	return NULL;
}

/* A variable of @t named @name, or NULL. */
struct hfield *find_var_in(struct htrig *t, const char *name)
{
	int i;

	for (i = 0; t && i < t->nvars; i++)
		if (!strcmp(t->vars[i]->var_name, name))
			return t->vars[i];
	return NULL;
}

struct hfield *find_var_on(struct hevent *e, const char *name)
{
	struct hfield *v;
	int i;

	for (i = 0; e && i < e->ntrigs; i++)
		if ((v = find_var_in(e->trigs[i], name)))
			return v;
	return NULL;
}

/*
 * As find_event_var(): a qualified name on its event; else the trigger's
 * own, the onmatch() events', then the one trigger anywhere that has it.
 */
struct hfield *find_var(struct pctx *p, const char *sys, const char *evn, const char *name)
{
	struct hfield *v, *found = NULL;
	unsigned int i;
	int k;

	if (sys) {
		char full[2 * PK_EV_NAME_SIZE + 2];

		snprintf(full, sizeof(full), "%s/%s", sys, evn);
		return find_var_on(hist_find_event(p->h, full, strlen(full), '/'), name);
	}
	if ((v = find_var_in(p->t, name)))
		return v;
	for (k = 0; k < p->t->nacts; k++) {
		struct hact *a = &p->t->acts[k];
		char full[2 * PK_EV_NAME_SIZE + 2];

		if (a->handler != H_ONMATCH)
			continue;
		snprintf(full, sizeof(full), "%s/%s", a->match_system, a->match_event);
		if ((v = find_var_on(hist_find_event(p->h, full, strlen(full), '/'), name)))
			return v;
	}
	for (i = 0; i < p->h->nev; i++) {
		if ((v = find_var_on(&p->h->ev[i], name))) {
			if (found)
				return herr(p,
					    "Variable name not unique, need to use fully qualified "
					    "name (subsys.event.var) for variable",
					    name);
			found = v;
		}
	}
	return found;
}

/* A reference to @var from this trigger: one per variable, shared. */
struct hfield *make_ref(struct pctx *p, struct hfield *var, const char *sys, const char *evn)
{
	struct htrig *t = p->t;
	struct hfield *r;
	int i;

	for (i = 0; i < t->nrefs; i++)
		if (t->refs[i]->var_trig == var->var_trig && t->refs[i]->var_idx == var->var_idx)
			return t->refs[i];
	if (t->nrefs == HIST_VARS_MAX || !(r = hf_new(HF_REF)))
		return NULL;
	r->var_trig = var->var_trig;
	r->var_idx = var->var_idx;
	r->size = var->size;
	r->is_signed = var->is_signed;
	r->type = var->type;
	r->flags |= var->flags & (HF_TIMESTAMP | HF_USECS);
	r->name = strdup(var->var_name);
	r->system = sys ? strdup(sys) : NULL;
	r->event = evn ? strdup(evn) : NULL;
	r->ref_idx = t->nrefs;
	t->refs[t->nrefs++] = r;
	return r;
}
