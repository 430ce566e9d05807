// SPDX-License-Identifier: MIT
/*
 * The `hist` file, as hist_show() writes it: the trigger's info line, one
 * "{ key } hitcount: N  val: N" line per entry in sort order, the
 * onmax()/onchange() values, then the totals.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/hist_int.h"

/* As hist_field_print(). */
static void print_field(FILE *f, const struct hfield *x)
{
	const char *name = hist_field_name(x, 0);

	if (x->var_name)
		fprintf(f, "%s=", x->var_name);
	if (x->flags & HF_STACKTRACE)
		fputs("common_stacktrace", f);
	else if (x->flags & HF_CPU)
		fputs("common_cpu", f);
	else if (x->flags & HF_CONST)
		fprintf(f, "%llu", (unsigned long long)x->constant);
	else if (*name)
		fprintf(f, "%s%s", (x->flags & (HF_REF | HF_ALIAS)) ? "$" : "", name);
	else if (x->flags & HF_TIMESTAMP)
		fputs("common_timestamp", f);
	if (!(x->flags & (HF_REF | HF_EXPR | HF_STACKTRACE))) {
		const char *fl = hist_flag_name(x->flags);

		if (fl)
			fprintf(f, ".%s", fl);
	}
	if (x->buckets)
		fprintf(f, "=%lu", x->buckets);
}

static void print_action(FILE *f, const struct htrig *t, const struct hact *a)
{
	int i;

	if (a->handler == H_ONMATCH)
		fprintf(f, ":onmatch(%s.%s).%s(", a->match_system, a->match_event, a->action_name);
	else
		fprintf(f, ":%s(%s).%s(", a->handler == H_ONMAX ? "onmax" : "onchange", a->var_str,
			a->action_name);
	if (a->action == A_SAVE) {
		for (i = 0; i < t->nsave; i++)
			fprintf(f, "%s%s", i ? "," : "", t->save[i]->var_name);
	} else {
		if (a->use_trace_keyword)
			fputs(a->synth_name, f);
		for (i = 0; i < a->nparams; i++)
			fprintf(f, "%s%s", i || a->use_trace_keyword ? "," : "", a->params[i]);
	}
	fputs(")", f);
}

void hist_print_trigger(FILE *f, const struct htrig *t)
{
	int i, shown = 0;

	fputs("hist:keys=", f);
	for (i = 0; i < t->nkeys; i++) {
		if (i)
			fputs(",", f);
		print_field(f, t->keys[i]);
	}
	fputs(":vals=", f);
	for (i = 0; i < t->nvals; i++) {
		if (!i) {
			if (t->nohitcount)
				continue;
			fputs("hitcount", f);
		} else {
			if (shown)
				fputs(",", f);
			print_field(f, t->vals[i]);
		}
		shown = 1;
	}
	for (i = 0; i < t->nvars; i++) {
		fputs(i ? "," : ":", f);
		print_field(f, t->vars[i]);
	}
	fputs(":sort=", f);
	for (i = 0; i < t->nsort; i++) {
		if (i)
			fputs(",", f);
		if (t->sort[i].f)
			print_field(f, t->sort[i].f);
		else
			fputs("hitcount", f);
		if (t->sort[i].descending)
			fputs(".descending", f);
	}
	fprintf(f, ":size=%u", 1u << t->map_bits);
	if (t->enable_ts)
		fputs(":clock=global", f);
	if (t->nohitcount)
		fputs(":nohitcount", f);
	for (i = 0; i < t->nacts; i++)
		print_action(f, t, &t->acts[i]);
	if (t->filter_str)
		fprintf(f, " if %s", t->filter_str);
	fputs(" [active]\n", f);
}

/* %pS of @addr, or with @no_offset %ps: the symbol without "+off/size". */
static void symbolize(char *buf, size_t n, uint64_t addr, int no_offset, pk_hist_symbolize_fn sym,
		      void *ctx)
{
	char *plus;

	if (!sym || sym(ctx, buf, n, (unsigned long)addr) < 0 || !*buf)
		snprintf(buf, n, "0x%llx", (unsigned long long)addr);
	if (no_offset && (plus = strchr(buf, '+'))) {
		char *rest = strchr(plus, ' ');

		memmove(plus, rest ? rest : plus + strlen(plus), strlen(rest ? rest : "") + 1);
	}
}

static void print_key(FILE *f, const struct htrig *t, const struct helt *e,
		      pk_hist_symbolize_fn sym, void *ctx)
{
	char buf[256];
	int i, multiline = 0;

	fputs("{ ", f);
	for (i = 0; i < t->nkeys; i++) {
		const struct hfield *k = t->keys[i];
		const char *name = hist_field_name(k, 0);
		unsigned long long u;

		memcpy(&u, e->key + k->offset, sizeof(u));
		if (i)
			fputs(", ", f);
		if (k->flags & HF_STACKTRACE) {
			unsigned int j;

			fprintf(f, "%s:\n", name);
			for (j = 0; j < HIST_STACK_DEPTH; j++) {
				memcpy(&u, e->key + k->offset + 8 * j, sizeof(u));
				if (!u)
					break;
				symbolize(buf, sizeof(buf), u, 0, sym, ctx);
				fprintf(f, "%9c%s\n", ' ', buf);
			}
			multiline = 1;
		} else if (k->flags & HF_HEX) {
			fprintf(f, "%s: %llx", name, u);
		} else if (k->flags & (HF_SYM | HF_SYM_OFFSET)) {
			symbolize(buf, sizeof(buf), u, !!(k->flags & HF_SYM), sym, ctx);
			fprintf(f, "%s: [%llx] %-*s", name, u, (k->flags & HF_SYM) ? 45 : 55, buf);
		} else if (k->flags & HF_EXECNAME) {
			fprintf(f, "%s: %-16s[%10llu]", name, e->comm, u);
		} else if (k->flags & HF_LOG2) {
			fprintf(f, "%s: ~ 2^%-2llu", name, u);
		} else if (k->flags & HF_BUCKET) {
			fprintf(f, "%s: ~ %llu-%llu", name, u, u + k->buckets - 1);
		} else if (k->flags & HF_STRING) {
			fprintf(f, "%s: %-50.*s", name, HIST_STR_MAX,
				(const char *)e->key + k->offset);
		} else {
			fprintf(f, "%s: %10llu", name, u);
		}
	}
	fputs(multiline ? "}" : " }", f);
}

/* 100 times the percentage of @val in @total, as __get_percentage(). */
static unsigned int percentage(uint64_t val, uint64_t total)
{
	if (!total)
		return val ? ~0u : 0;
	if (val < UINT64_MAX / 10000)
		return (unsigned int)(val * 10000 / total);
	total /= 10000;
	if (!total)
		return val ? ~0u : 0;
	return (unsigned int)(val / total);
}

struct stat2 {
	uint64_t max, total;
};

static void print_val(FILE *f, const struct hfield *v, const char *name, uint64_t val,
		      const struct stat2 *st)
{
	unsigned long long u = val;

	if (v && (v->flags & HF_PERCENT)) {
		unsigned int pc = percentage(val, st->total);

		if (pc == ~0u)
			fprintf(f, " %s (%%):[ERROR]", name);
		else
			fprintf(f, " %s (%%): %3u.%02u", name, pc / 100, pc % 100);
	} else if (v && (v->flags & HF_GRAPH)) {
		char bar[21];
		unsigned int pc = percentage(val, st->max), len, i;

		if (pc == ~0u) {
			snprintf(bar, sizeof(bar), "[ERROR]");
		} else {
			len = pc * 20 / 10000;
			for (i = 0; i < 20; i++)
				bar[i] = i < len ? '#' : ' ';
			bar[20] = 0;
		}
		fprintf(f, " %s: %20s", name, bar);
	} else if (v && (v->flags & HF_HEX)) {
		fprintf(f, " %s: %10llx", name, u);
	} else {
		fprintf(f, " %s: %10llu", name, u);
	}
}

static const struct htrig *sort_trig;

/* Two entries' key field @k, compared as tracing_map's cmp_fn of its type. */
static int cmp_key(const struct hfield *k, const struct helt *a, const struct helt *b)
{
	uint64_t x, y;

	if (k->flags & HF_STRING)
		return strncmp((const char *)a->key + k->offset, (const char *)b->key + k->offset,
			       HIST_STR_MAX);
	if (k->flags & HF_STACKTRACE)
		return memcmp(a->key + k->offset, b->key + k->offset, k->size);
	memcpy(&x, a->key + k->offset, 8);
	memcpy(&y, b->key + k->offset, 8);
	if (k->is_signed && !(k->flags & (HF_LOG2 | HF_BUCKET)))
		return (int64_t)x < (int64_t)y ? -1 : (int64_t)x > (int64_t)y;
	return x < y ? -1 : x > y;
}

static int cmp_entries(const void *pa, const void *pb)
{
	const struct helt *a = *(struct helt *const *)pa, *b = *(struct helt *const *)pb;
	const struct htrig *t = sort_trig;
	int i, c = 0;

	for (i = 0; i < t->nsort && !c; i++) {
		const struct hsort *s = &t->sort[i];

		if (s->val >= 0)
			c = a->sums[s->val] < b->sums[s->val] ? -1
							      : a->sums[s->val] > b->sums[s->val];
		else
			c = cmp_key(s->f, a, b);
		if (s->descending)
			c = -c;
	}
	/* The kernel leaves ties in no particular order: here the keys' ascending one. */
	for (i = 0; i < t->nkeys && !c; i++)
		c = cmp_key(t->keys[i], a, b);
	return c;
}

void hist_show(FILE *f, struct htrig *t, pk_hist_symbolize_fn sym, void *ctx)
{
	struct helt **order = NULL;
	struct stat2 st[HIST_VALS_MAX] = {{0, 0}};
	unsigned int n = t->nelts, i;
	int j;

	fputs("# event histogram\n#\n# trigger info: ", f);
	hist_print_trigger(f, t);
	fputs("#\n\n", f);
	if (n && (order = malloc(n * sizeof(*order)))) {
		memcpy(order, t->elts, n * sizeof(*order));
		sort_trig = t;
		qsort(order, n, sizeof(*order), cmp_entries);
	}
	for (j = 0; order && j < t->nvals; j++)
		for (i = 0; i < n; i++) {
			st[j].total += order[i]->sums[j];
			if (st[j].max < order[i]->sums[j])
				st[j].max = order[i]->sums[j];
		}
	for (i = 0; order && i < n; i++) {
		const struct helt *e = order[i];

		print_key(f, t, e, sym, ctx);
		if (!t->nohitcount)
			print_val(f, NULL, "hitcount", e->sums[0], &st[0]);
		for (j = 1; j < t->nvals; j++) {
			if (t->vals[j]->flags & HF_EXPR)
				continue;
			fputs(" ", f);
			print_val(f, t->vals[j], hist_field_name(t->vals[j], 0), e->sums[j],
				  &st[j]);
		}
		for (j = 0; j < t->nacts; j++) {
			const struct hact *a = &t->acts[j];
			int k;

			if (a->handler == H_ONMATCH)
				continue;
			fprintf(f, "\n\t%s: %10llu", a->handler == H_ONMAX ? "max" : "changed",
				(unsigned long long)e->track[a->slot]);
			for (k = 0; k < t->nsave; k++)
				fprintf(f, "  %s: %10llu", t->save[k]->var_name,
					(unsigned long long)e->saved[k]);
		}
		fputs("\n", f);
	}
	free(order);
	fprintf(f, "\nTotals:\n    Hits: %llu\n    Entries: %u\n    Dropped: %llu\n",
		(unsigned long long)t->hits, n, (unsigned long long)t->drops);
}

void pk_hist_print(struct pk_hist *h, FILE *f, pk_hist_symbolize_fn sym, void *ctx)
{
	unsigned int i, nfiles = 0, shown = 0;
	int j;

	for (i = 0; h && i < h->nev; i++)
		nfiles += h->ev[i].ntrigs > 0;
	for (i = 0; h && i < h->nev; i++) {
		struct hevent *e = &h->ev[i];

		if (!e->ntrigs)
			continue;
		if (nfiles > 1)
			fprintf(f, "%s==> events/%s/%s/hist <==\n", shown++ ? "\n" : "",
				e->def->group, e->def->event);
		for (j = 0; j < e->ntrigs; j++) {
			if (j)
				fputs("\n\n", f);
			hist_show(f, e->trigs[j], sym, ctx);
		}
	}
}
