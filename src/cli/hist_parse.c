// SPDX-License-Identifier: MIT
/*
 * A hist trigger's text to a struct htrig, as trace_events_hist.c parses
 * it: the attributes split at ':', keys and values at ',', expressions
 * split at their rightmost operator of the lowest precedence, variables
 * and references resolved against the triggers defined before, errors
 * reported with the error_log's messages and caret.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/hist_int.h"

/* The error_log's entry: where, what, the command and a caret under @at. */
void *herr(struct pctx *p, const char *msg, const char *at)
{
	const char *hit = at && *at ? strstr(p->cmd, at) : NULL;
	int pos = hit ? (int)(hit - p->cmd) : 0;

	if (p->failed++)
		return NULL;
	fprintf(stderr, "probekit trace: hist:%s:%s: error: %s\n  Command: %s\n%*s^\n",
		p->ev->def->group, p->ev->def->event, msg, p->cmd, pos + 11, "");
	return NULL;
}

struct hfield *hf_new(unsigned long flags)
{
	struct hfield *f = calloc(1, sizeof(*f));

	if (f) {
		f->flags = flags;
		f->arg = ARG_NONE;
		f->var_idx = -1;
		f->ref_idx = -1;
	}
	return f;
}

void hf_free(struct hfield *f)
{
	if (!f || (f->flags & HF_REF))
		return; /* references belong to the trigger's refs[] */
	hf_free(f->operands[0]);
	hf_free(f->operands[1]);
	free(f->name);
	free(f->var_name);
	free(f->src);
	free(f);
}

int type_signed(uint8_t type)
{
	return type >= PK_EVT_S8 && type <= PK_EVT_S64;
}

/* An event field with at most one modifier, as parse_field(). */
static struct hfield *parse_field(struct pctx *p, char *str, unsigned long flags)
{
	const struct pk_event_def *d = p->ev->def;
	char *mod = strchr(str, '.');
	struct hfield *f;
	unsigned long buckets = 0;
	int i;

	if (mod) {
		*mod++ = 0;
		if (!strcmp(mod, "hex"))
			flags |= HF_HEX;
		else if (!strcmp(mod, "sym"))
			flags |= HF_SYM;
		else if (!strcmp(mod, "symXoffset"))
			flags |= HF_SYM_OFFSET;
		else if (!strcmp(mod, "execname") && !strcmp(str, "common_pid"))
			flags |= HF_EXECNAME;
		else if (!strcmp(mod, "log2"))
			flags |= HF_LOG2;
		else if (!strcmp(mod, "usecs"))
			flags |= HF_USECS;
		else if (!strncmp(mod, "bucket", 6)) {
			char *n = mod + 6 + (mod[6] == 's'), *end;

			if (*n != '=')
				return herr(p, "Invalid field modifier", mod);
			buckets = strtoul(n + 1, &end, 0);
			if (*end || !buckets || end == n + 1)
				return herr(p, "Invalid field modifier", mod);
			flags |= HF_BUCKET;
		} else if (!strncmp(mod, "percent", 7) && !(flags & (HF_VAR | HF_KEY))) {
			flags |= HF_PERCENT;
		} else if (!strncmp(mod, "graph", 5) && !(flags & (HF_VAR | HF_KEY))) {
			flags |= HF_GRAPH;
		} else {
			return herr(p, "Invalid field modifier", mod);
		}
	}
	if (!(f = hf_new(flags)))
		return NULL;
	f->buckets = buckets;
	f->size = 8;
	f->type = "u64";
	if (!strcmp(str, "common_timestamp")) {
		f->flags |= HF_TIMESTAMP;
		p->t->enable_ts = 1;
		if (flags & HF_USECS)
			p->t->ts_usecs = 1;
	} else if (!strcmp(str, "common_cpu") || !strcmp(str, "cpu") || !strcmp(str, "CPU")) {
		f->flags |= HF_CPU;
		f->size = 4;
		f->type = "unsigned int";
	} else if (!strcmp(str, "hitcount")) {
		f->flags |= HF_HITCOUNT;
	} else if (!strcmp(str, "common_pid")) {
		f->arg = ARG_PID;
		f->size = 4;
		f->is_signed = 1;
		f->type = "int";
	} else if (!strcmp(str, "comm") || !strcmp(str, "COMM")) {
		f->arg = ARG_COMM;
		f->flags |= HF_STRING;
		f->size = HIST_STR_MAX;
		f->type = "char[]";
	} else if (!strcmp(str, "common_stacktrace") || !strcmp(str, "stacktrace")) {
		/* The user stack at the hit, HIST_STACK_DEPTH frames: keys only. */
		if (!(flags & HF_KEY)) {
			hf_free(f);
			return herr(p, "Invalid field modifier", str);
		}
		f->flags |= HF_STACKTRACE;
		f->size = HIST_STACK_DEPTH * 8;
		f->type = "unsigned long[]";
	} else {
		for (i = 0; i < d->nargs && strcmp(d->args[i].name, str); i++)
			;
		if (i == d->nargs || d->args[i].count) {
			hf_free(f);
			return herr(p, "Couldn't find field", str);
		}
		f->arg = i;
		f->fname = d->args[i].name;
		f->type = p->ev->types ? p->ev->types[i] : pk_event_type_name(d->args[i].type);
		if (d->args[i].dynamic) {
			f->flags |= HF_STRING;
			f->size = HIST_STR_MAX;
		} else {
			f->size = d->args[i].size;
			f->is_signed = type_signed(d->args[i].type);
		}
	}
	if (f->flags & (HF_LOG2 | HF_BUCKET)) {
		/* As the kernel: the modifier wraps the field as its operand. */
		struct hfield *w = hf_new(f->flags);

		if (!w) {
			hf_free(f);
			return NULL;
		}
		f->flags &= ~(HF_LOG2 | HF_BUCKET);
		w->operands[0] = f;
		w->arg = f->arg;
		w->buckets = f->buckets;
		w->size = f->size;
		w->is_signed = f->is_signed;
		w->type = f->type;
		f = w;
	}
	return f;
}

/* As parse_atom(): a constant, a $reference, or a field. */
static struct hfield *parse_atom(struct pctx *p, char *str, unsigned long flags, const char *var)
{
	char *sys = NULL, *evn = NULL, *name = str, *d1;
	struct hfield *f;

	if (isdigit((unsigned char)str[0])) {
		char *end;

		if (!(f = hf_new(flags | HF_CONST)))
			return NULL;
		f->constant = strtoull(str, &end, 0);
		if (*end) {
			hf_free(f);
			return herr(p, "Expecting numeric literal", str);
		}
		f->size = 8;
		f->type = "u64";
		goto named;
	}
	d1 = strchr(str, '.');
	if (d1 && strchr(d1 + 1, '.')) {
		sys = str;
		*d1 = 0;
		evn = d1 + 1;
		name = strchr(evn, '.');
		*name++ = 0;
	}
	if (name[0] == '$' && name[1]) {
		struct hfield *v = find_var(p, sys, evn, name + 1), *r;

		if (!v)
			return herr(p, "Couldn't find variable", name + 1);
		if (v->var_trig == p->t && !(v->flags & (HF_EXPR | HF_ALIAS | HF_CONST))) {
			/* A variable of this trigger holding a field: the field itself. */
			char buf[HIST_STR_MAX];

			snprintf(buf, sizeof(buf), "%s", v->src);
			return parse_field(p, buf, flags);
		}
		if (!(r = make_ref(p, v, sys, evn)))
			return herr(p, "Too many variables defined", name);
		if (!var)
			return r;
		/* An alias: a variable that is another's reference. */
		if (!(f = hf_new(HF_ALIAS | HF_VAR)))
			return NULL;
		f->operands[0] = r;
		f->size = r->size;
		f->type = r->type;
		f->flags |= r->flags & (HF_TIMESTAMP | HF_USECS);
		goto named;
	}
	if (sys)
		return herr(p, "Couldn't find field", sys);
	if (!(f = parse_field(p, str, flags)))
		return NULL;
named:
	if (var && !(f->var_name = strdup(var))) {
		hf_free(f);
		return NULL;
	}
	return f;
}

/* The operator at the root of @s, as contains_operator(). */
static int root_op(char *s, char **sep)
{
	char *minus = strrchr(s, '-'), *plus = strrchr(s, '+'), *div, *mult;

	*sep = NULL;
	if (minus == s) {
		*sep = minus;
		return OP_UMINUS;
	}
	if (plus || minus) {
		*sep = plus > minus ? plus : minus;
		return plus > minus ? OP_PLUS : OP_MINUS;
	}
	div = strrchr(s, '/');
	mult = strrchr(s, '*');
	if (!div && !mult)
		return OP_NONE;
	*sep = mult > div ? mult : div;
	return mult > div ? OP_MULT : OP_DIV;
}

/* As expr_field_str() into @b. */
static void expr_operand_str(const struct hfield *f, char *b, size_t n)
{
	const char *fl = (f->flags & HF_REF) ? NULL : hist_flag_name(f->flags);
	size_t l = strlen(b);

	snprintf(b + l, n - l, "%s%s%s%s", (f->flags & HF_REF) ? "$" : "",
		 (f->flags & HF_CONST) ? "" : hist_field_name(f, 0), fl ? "." : "", fl ? fl : "");
	if (f->flags & HF_CONST) {
		l = strlen(b);
		snprintf(b + l, n - l, "%llu", (unsigned long long)f->constant);
	}
}

static int ts_usecs_of(const struct hfield *f)
{
	if ((f->flags & HF_REF) || (f->flags & HF_ALIAS)) {
		struct hfield *r = (f->flags & HF_ALIAS) ? f->operands[0] : (struct hfield *)f;

		return r->var_trig && r->var_idx >= 0 &&
		       (r->var_trig->vars[r->var_idx]->flags & HF_USECS);
	}
	return !!(f->flags & HF_USECS);
}

struct hfield *parse_expr(struct pctx *p, char *str, unsigned long flags, const char *var,
			  int *nsub)
{
	static const char opchar[] = {
	    [OP_PLUS] = '+', [OP_MINUS] = '-', [OP_DIV] = '/', [OP_MULT] = '*'};
	struct hfield *e, *a, *b;
	char *sep, name[HIST_STR_MAX] = "";
	int op;

	if (*nsub > 3)
		return herr(p, "Too many subexpressions (3 max)", str);
	op = root_op(str, &sep);
	if (op == OP_NONE)
		return parse_atom(p, str, flags, var);
	++*nsub;
	if (*nsub > 3)
		return herr(p, "Too many subexpressions (3 max)", str);
	if (op == OP_UMINUS) {
		char *close;

		if (str[1] != '(' || !(close = strrchr(str, ')')))
			return herr(p, "Unary minus not supported in sub-expressions", str);
		if (close[1])
			return herr(p, "Unary minus not supported in sub-expressions", str);
		*close = 0;
		if (!(a = parse_expr(p, str + 2, 0, NULL, nsub)))
			return NULL;
		b = NULL;
	} else {
		*sep = 0;
		if (!*str || !sep[1])
			return herr(p, "Missing field name and/or value", str);
		if (!(a = parse_expr(p, str, 0, NULL, nsub)))
			return NULL;
		if (!(b = parse_expr(p, sep + 1, 0, NULL, nsub))) {
			hf_free(a);
			return NULL;
		}
		if ((b->flags & HF_STRING) || (a->flags & HF_STRING)) {
			hf_free(a);
			hf_free(b);
			return herr(p, "String type can not be an operand in expression", str);
		}
		if (ts_usecs_of(a) != ts_usecs_of(b)) {
			hf_free(a);
			hf_free(b);
			return herr(p, "Timestamp units in expression don't match", NULL);
		}
		if (op == OP_DIV && (b->flags & HF_CONST) && !b->constant) {
			hf_free(a);
			hf_free(b);
			return herr(p, "Division by zero", sep + 1);
		}
	}
	if (a->flags & HF_STRING) {
		hf_free(a);
		return herr(p, "String type can not be an operand in expression", str);
	}
	/* A variable an expression reads is used up: the next read needs a new value. */
	if (a->flags & HF_REF)
		a->read_once = 1;
	if (b && (b->flags & HF_REF))
		b->read_once = 1;
	if (!(e = hf_new(flags | HF_EXPR | (a->flags & (HF_TIMESTAMP | HF_USECS))))) {
		hf_free(a);
		hf_free(b);
		return NULL;
	}
	e->op = op;
	e->operands[0] = a;
	e->operands[1] = b;
	e->size = a->size;
	e->is_signed = a->is_signed;
	e->type = a->type;
	if (op == OP_UMINUS) {
		snprintf(name, sizeof(name), "-(");
		if (a->operands[0] && !(a->flags & (HF_LOG2 | HF_BUCKET)))
			snprintf(name + 2, sizeof(name) - 2, "%s", hist_field_name(a, 0));
		else
			expr_operand_str(a, name, sizeof(name) - 1);
		strcat(name, ")");
	} else {
		expr_operand_str(a, name, sizeof(name));
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%c", opchar[op]);
		expr_operand_str(b, name, sizeof(name));
	}
	e->name = strdup(name);
	if (var)
		e->var_name = strdup(var);
	return e;
}

static int add_var(struct pctx *p, char *name, char *expr)
{
	struct htrig *t = p->t;
	struct hfield *f;
	char *src = strdup(expr);
	int nsub = 0;

	if (!src)
		return -ENOMEM;
	if (find_var_in(t, name) || find_var_on(p->ev, name)) {
		free(src);
		herr(p, "Variable already defined", name);
		return -EINVAL;
	}
	if (t->nvars == HIST_VARS_MAX || !(f = parse_expr(p, expr, HF_VAR, name, &nsub))) {
		if (t->nvars == HIST_VARS_MAX)
			herr(p, "Too many variables defined", name);
		free(src);
		return -EINVAL;
	}
	f->src = src;
	if (f->flags & (HF_GRAPH | HF_PERCENT | HF_BUCKET | HF_LOG2)) {
		hf_free(f);
		herr(p, "Invalid field modifier", expr);
		return -EINVAL;
	}
	if (f->flags & HF_STRING) {
		hf_free(f);
		herr(p, "String type can not be an operand in expression", expr);
		return -EINVAL;
	}
	f->flags |= HF_VAR;
	f->var_trig = t;
	f->var_idx = t->nvars;
	t->vars[t->nvars++] = f;
	return 0;
}

static int add_val(struct pctx *p, char *s)
{
	struct hfield *f;
	int nsub = 0;

	if (!(f = parse_expr(p, s, 0, NULL, &nsub)))
		return -EINVAL;
	if (f->flags & (HF_BUCKET | HF_LOG2 | HF_SYM | HF_SYM_OFFSET | HF_STRING)) {
		hf_free(f);
		herr(p, "Invalid field modifier", s);
		return -EINVAL;
	}
	p->t->vals[p->t->nvals++] = f;
	return 0;
}

static int add_key(struct pctx *p, char *s)
{
	struct htrig *t = p->t;
	struct hfield *f;
	int nsub = 0;

	if (!(f = parse_expr(p, s, HF_KEY, NULL, &nsub)))
		return -EINVAL;
	if ((f->flags & (HF_REF | HF_ALIAS)) ||
	    (f->operands[0] && (f->operands[0]->flags & HF_REF)) ||
	    (f->operands[1] && (f->operands[1]->flags & HF_REF))) {
		hf_free(f);
		herr(p, "Using variable references in keys not supported", s);
		return -EINVAL;
	}
	f->flags |= HF_KEY;
	f->size = (f->flags & HF_STRING)       ? HIST_STR_MAX
		  : (f->flags & HF_STACKTRACE) ? HIST_STACK_DEPTH * 8
					       : 8;
	f->offset = t->key_size;
	t->key_size += f->size;
	t->keys[t->nkeys++] = f;
	return 0;
}

static int add_sort(struct pctx *p, char *s)
{
	struct htrig *t = p->t;
	char *dot = strchr(s, '.');
	struct hsort *k = &t->sort[t->nsort];
	int i;

	if (!*s || dot == s) {
		herr(p, "Empty sort field", "sort=");
		return -EINVAL;
	}
	if (dot) {
		*dot++ = 0;
		if (strcmp(dot, "descending") && strcmp(dot, "ascending")) {
			herr(p, "Invalid sort modifier", dot);
			return -EINVAL;
		}
		k->descending = !strcmp(dot, "descending");
	}
	k->val = 0;
	if (!strcmp(s, "hitcount")) {
		t->nsort++;
		return 0;
	}
	for (i = 1; i < t->nvals; i++)
		if (!strcmp(s, hist_field_name(t->vals[i], 0))) {
			k->f = t->vals[i];
			k->val = i;
			t->nsort++;
			return 0;
		}
	for (i = 0; i < t->nkeys; i++)
		if (!strcmp(s, hist_field_name(t->keys[i], 0))) {
			k->f = t->keys[i];
			k->val = -1;
			t->nsort++;
			return 0;
		}
	herr(p, "Sort field must be a key or a val", s);
	return -EINVAL;
}

struct htrig *hist_parse(struct pk_hist *h, struct hevent *ev, const char *cmd)
{
	char *buf, *s, *part, *filter = NULL, *keys = NULL, *vals = NULL, *sort = NULL;
	char *assign[HIST_VARS_MAX];
	struct pctx p = {.h = h, .ev = ev};
	int nassign = 0, i, bits = HIST_BITS_DEF;
	struct htrig *t;

	while (isspace((unsigned char)*cmd))
		cmd++;
	snprintf(p.cmd, sizeof(p.cmd), "%s", cmd);
	if (strncmp(cmd, "hist:", 5)) {
		herr(&p, "Unknown trigger command: only hist is supported", cmd);
		return NULL;
	}
	if (!(t = calloc(1, sizeof(*t))) || !(buf = strdup(cmd + 5))) {
		free(t);
		return NULL;
	}
	p.t = t;
	t->ev = ev;
	t->text = strdup(cmd);
	/* The filter starts at the first "if" between blanks. */
	for (s = buf; (s = strstr(s, "if")); s++) {
		if (s > buf && (s[-1] == ' ' || s[-1] == '\t') && (s[2] == ' ' || s[2] == '\t')) {
			s[-1] = 0;
			filter = s + 3;
			while (isspace((unsigned char)*filter))
				filter++;
			break;
		}
	}
	for (s = buf; (s = strstr(s, ".sym-offset")); s += 11)
		s[4] = 'X';
	s = buf;
	while ((part = strsep(&s, ":"))) {
		char *eq = strchr(part, '=');

		if (eq && !eq[1]) {
			herr(&p, "Empty assignment", part);
			goto fail;
		}
		if (eq && (!strncmp(part, "keys=", 5) || !strncmp(part, "key=", 4)))
			keys = eq + 1;
		else if (eq && (!strncmp(part, "vals=", 5) || !strncmp(part, "val=", 4) ||
				!strncmp(part, "values=", 7)))
			vals = eq + 1;
		else if (eq && !strncmp(part, "sort=", 5))
			sort = eq + 1;
		else if (eq && !strncmp(part, "clock=", 6))
			continue; /* one clock here: CLOCK_MONOTONIC */
		else if (eq && !strncmp(part, "size=", 5)) {
			unsigned long n = strtoul(eq + 1, NULL, 0);

			for (bits = 0; (1ul << bits) < n; bits++)
				;
			if (bits < HIST_BITS_MIN || bits > HIST_BITS_MAX) {
				herr(&p, "Invalid map size", part);
				goto fail;
			}
		} else if (eq && !strncmp(part, "name=", 5)) {
			herr(&p, "Named triggers are not supported", part);
			goto fail;
		} else if (eq) {
			if (nassign == HIST_VARS_MAX) {
				herr(&p, "Too many variables defined", part);
				goto fail;
			}
			assign[nassign++] = part;
		} else if (!strcmp(part, "nohitcount") || !strcmp(part, "NOHC")) {
			t->nohitcount = 1;
		} else if (!strncmp(part, "onmatch(", 8) || !strncmp(part, "onmax(", 6) ||
			   !strncmp(part, "onchange(", 9)) {
			if (hist_parse_action(&p, part))
				goto fail;
		} else {
			herr(&p, "Invalid hist trigger attribute", part);
			goto fail;
		}
	}
	if (!keys) {
		herr(&p, "Missing keys=", NULL);
		goto fail;
	}
	t->map_bits = (unsigned int)bits;
	if (!(t->vals[0] = hf_new(HF_HITCOUNT)))
		goto fail;
	t->vals[0]->type = "u64";
	t->nvals = 1;
	for (i = 0; i < nassign; i++) {
		char *def = assign[i], *one;

		while ((one = strsep(&def, ","))) {
			char *eq = strchr(one, '=');

			if (!eq) {
				herr(&p, "Malformed assignment", one);
				goto fail;
			}
			*eq = 0;
			if (add_var(&p, one, eq + 1))
				goto fail;
		}
	}
	for (i = 0; vals && (part = strsep(&vals, ",")); i++) {
		if (!strcmp(part, "hitcount") && !i)
			continue;
		if (t->nvals == HIST_VALS_MAX) {
			herr(&p, "Too many values", part);
			goto fail;
		}
		if (add_val(&p, part))
			goto fail;
	}
	if (t->nohitcount && t->nvals == 1) {
		herr(&p, "Non-hitcount value is required for 'nohitcount'", NULL);
		goto fail;
	}
	while ((part = strsep(&keys, ","))) {
		if (t->nkeys == HIST_KEYS_MAX) {
			herr(&p, "Too many keys", part);
			goto fail;
		}
		if (add_key(&p, part))
			goto fail;
	}
	t->nsort = 0;
	while (sort && (part = strsep(&sort, ","))) {
		if (t->nsort == HIST_SORT_MAX) {
			herr(&p, "Too many sort fields (Max = 2)", "sort=");
			goto fail;
		}
		if (add_sort(&p, part))
			goto fail;
	}
	if (!t->nsort) {
		t->nsort = 1; /* hitcount, ascending */
		t->sort[0].val = 0;
	}
	if (filter) {
		const char *msg;
		int pos;

		t->filter_str = strdup(filter);
		if (pk_filter_compile(ev->def, filter, &t->filter, &pos, &msg)) {
			herr(&p, msg, filter + pos);
			goto fail;
		}
	}
	if (hist_create_actions(&p))
		goto fail;
	free(buf);
	return t;
fail:
	free(buf);
	hist_trig_free(t);
	return NULL;
}

void hist_trig_free(struct htrig *t)
{
	int i, j;

	if (!t)
		return;
	for (i = 0; i < t->nvals; i++)
		hf_free(t->vals[i]);
	for (i = 0; i < t->nvars; i++)
		hf_free(t->vars[i]);
	for (i = 0; i < t->nkeys; i++)
		hf_free(t->keys[i]);
	for (i = 0; i < t->nsave; i++)
		hf_free(t->save[i]);
	for (i = 0; i < t->nacts; i++) {
		struct hact *a = &t->acts[i];

		for (j = 0; j < a->nparams; j++) {
			free(a->params[j]);
			hf_free(a->pf[j]);
		}
		free(a->match_system);
		free(a->match_event);
		free(a->action_name);
		free(a->synth_name);
		free(a->var_str);
	}
	for (i = 0; i < t->nrefs; i++) {
		free(t->refs[i]->name);
		free(t->refs[i]->system);
		free(t->refs[i]->event);
		free(t->refs[i]);
	}
	for (i = 0; i < (int)t->nelts; i++) {
		free(t->elts[i]->saved);
		free(t->elts[i]);
	}
	free(t->elts);
	free(t->slots);
	pk_filter_free(t->filter);
	free(t->filter_str);
	free(t->text);
	free(t);
}
