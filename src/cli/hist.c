// SPDX-License-Identifier: MIT
/*
 * The hist triggers' events and hit path: each hit of an event runs its
 * triggers in the order they were added, as event_hist_trigger() runs
 * them: build the key, resolve references to other triggers' variables
 * (no match, no hit), find or make the key's element (a full map drops),
 * add the values, set the variables, then run the actions, which may fire
 * synthetic events and so other triggers. Synthetic events are probekit
 * event definitions of the group "synthetic" whose record is just their
 * fields, so that filters, formatting and hist fields treat them as any
 * other event.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/hist_int.h"

struct pk_hist *pk_hist_new(pk_hist_emit_fn emit, void *ctx)
{
	struct pk_hist *h = calloc(1, sizeof(*h));

	if (h) {
		h->emit = emit;
		h->ctx = ctx;
	}
	return h;
}

void pk_hist_free(struct pk_hist *h)
{
	unsigned int i;
	int j;

	if (!h)
		return;
	for (i = 0; i < h->nev; i++) {
		struct hevent *e = &h->ev[i];

		for (j = 0; j < e->ntrigs; j++)
			hist_trig_free(e->trigs[j]);
		free(e->trigs);
		if (e->types)
			for (j = 0; j < e->own->nargs; j++)
				free(e->types[j]);
		free(e->types);
		free(e->own);
	}
	free(h->ev);
	free(h);
}

static struct hevent *new_event(struct pk_hist *h)
{
	struct hevent *ev = realloc(h->ev, (h->nev + 1) * sizeof(*ev));

	if (!ev)
		return NULL;
	h->ev = ev;
	memset(&ev[h->nev], 0, sizeof(*ev));
	return &ev[h->nev++];
}

int pk_hist_add_event(struct pk_hist *h, const struct pk_event_def *def)
{
	struct hevent *ev = new_event(h);

	if (!ev)
		return -ENOMEM;
	ev->def = def;
	return 0;
}

/* synthetic_events' field types: what each is in a record. */
static const struct {
	const char *name;
	uint8_t type;
} synth_types[] = {
    {"u64", PK_EVT_U64},
    {"s64", PK_EVT_S64},
    {"u32", PK_EVT_U32},
    {"s32", PK_EVT_S32},
    {"u16", PK_EVT_U16},
    {"s16", PK_EVT_S16},
    {"u8", PK_EVT_U8},
    {"s8", PK_EVT_S8},
    {"int", PK_EVT_S32},
    {"unsigned int", PK_EVT_U32},
    {"pid_t", PK_EVT_S32},
    {"long", PK_EVT_S64},
    {"unsigned long", PK_EVT_U64},
    {"bool", PK_EVT_U8},
    {"char", PK_EVT_S8},
    {"unsigned char", PK_EVT_U8},
    {"short", PK_EVT_S16},
    {"unsigned short", PK_EVT_U16},
    {"gfp_t", PK_EVT_U32},
    {"long long", PK_EVT_S64},
    {"unsigned long long", PK_EVT_U64},
};

static int is_ident(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* One "TYPE NAME" of a synthetic event into @d's next argument. */
static int synth_field(struct pk_event_def *d, char **types, char *s)
{
	struct pk_event_arg *a = &d->args[d->nargs];
	char *name, *end = s + strlen(s), type[64];
	size_t i, n = 0;

	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	while (isspace((unsigned char)*s))
		s++;
	name = strrchr(s, ' ');
	if (!name || !is_ident(name + 1) || strlen(name + 1) > PK_EV_MAX_ARG_NAME)
		return -EINVAL;
	*name++ = 0;
	/* The type with its blanks made single spaces: "unsigned  int" is "unsigned int". */
	for (i = 0; s[i] && n + 1 < sizeof(type); i++)
		if (!isspace((unsigned char)s[i]) || (n && type[n - 1] != ' '))
			type[n++] = isspace((unsigned char)s[i]) ? ' ' : s[i];
	while (n && type[n - 1] == ' ')
		n--;
	type[n] = 0;
	for (i = 0; i < sizeof(synth_types) / sizeof(synth_types[0]); i++)
		if (!strcmp(type, synth_types[i].name))
			break;
	if (i == sizeof(synth_types) / sizeof(synth_types[0]))
		return -EINVAL;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->type = synth_types[i].type;
	a->size = (uint16_t)(a->type == PK_EVT_U64 || a->type == PK_EVT_S64   ? 8
			     : a->type == PK_EVT_U32 || a->type == PK_EVT_S32 ? 4
			     : a->type == PK_EVT_U16 || a->type == PK_EVT_S16 ? 2
									      : 1);
	a->offset = d->fixed_size;
	d->fixed_size = (uint16_t)(d->fixed_size + a->size);
	if (!(types[d->nargs] = strdup(type)))
		return -ENOMEM;
	d->nargs++;
	return 0;
}

int pk_hist_add_synthetic(struct pk_hist *h, const char *spec)
{
	struct pk_event_def *d = calloc(1, sizeof(*d));
	char **types = calloc(HIST_PARAMS_MAX, sizeof(*types));
	char *buf = strdup(spec), *s, *name, *part;
	struct hevent *ev;
	int err = -ENOMEM;

	if (!d || !types || !buf)
		goto fail;
	s = buf;
	while (isspace((unsigned char)*s))
		s++;
	name = strsep(&s, " \t");
	err = -EINVAL;
	if (!is_ident(name) || strlen(name) >= PK_EV_NAME_SIZE) {
		fprintf(stderr, "probekit trace: synthetic_events: bad event name '%s'\n", name);
		goto fail;
	}
	if (hist_find_event(h, name, strlen(name), '/') &&
	    hist_find_event(h, name, strlen(name), '/')->own) {
		fprintf(stderr, "probekit trace: synthetic_events: %s already defined\n", name);
		err = -EEXIST;
		goto fail;
	}
	d->magic = PK_EV_MAGIC;
	d->abi_size = sizeof(*d);
	d->kind = 'p';
	snprintf(d->group, sizeof(d->group), "synthetic");
	snprintf(d->event, sizeof(d->event), "%s", name);
	while (s && (part = strsep(&s, ";"))) {
		int r;

		if (!*part || strspn(part, " \t") == strlen(part))
			continue;
		if (d->nargs == HIST_PARAMS_MAX) {
			fprintf(stderr, "probekit trace: synthetic_events: %s: too many fields\n",
				name);
			goto fail;
		}
		if ((r = synth_field(d, types, part))) {
			if (r == -EINVAL)
				fprintf(stderr,
					"probekit trace: synthetic_events: %s: bad field '%s' "
					"(TYPE NAME, TYPE one of u8..u64 s8..s64 int pid_t long "
					"unsigned ... bool)\n",
					name, part);
			err = r;
			goto fail;
		}
	}
	d->dyn_offset = (uint16_t)(d->fixed_size + (d->nargs + 7) / 8);
	d->pool_used = 1;
	if (!(ev = new_event(h)))
		goto fail;
	ev->def = ev->own = d;
	ev->types = types;
	free(buf);
	return 0;
fail:
	if (types)
		for (int i = 0; i < HIST_PARAMS_MAX; i++)
			free(types[i]);
	free(types);
	free(d);
	free(buf);
	return err;
}

int pk_hist_add_trigger(struct pk_hist *h, const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct hevent *ev;
	struct htrig *t, **ts;
	size_t n;

	if (!colon) {
		fprintf(stderr, "probekit trace: --trigger takes 'EVENT: hist:...'\n");
		return -EINVAL;
	}
	n = (size_t)(colon - arg);
	ev = hist_find_event(h, arg, n, '/');
	if (!ev) {
		fprintf(stderr, "probekit trace: --trigger: no event '%.*s'\n", (int)n, arg);
		return -ENOENT;
	}
	if (!(t = hist_parse(h, ev, colon + 1)))
		return -EINVAL;
	if (!(ts = realloc(ev->trigs, (size_t)(ev->ntrigs + 1) * sizeof(*ts)))) {
		hist_trig_free(t);
		return -ENOMEM;
	}
	ev->trigs = ts;
	ts[ev->ntrigs++] = t;
	return 0;
}

int pk_hist_aggregates(const struct pk_hist *h, unsigned int id)
{
	return h && id < h->nev && h->ev[id].ntrigs > 0;
}

unsigned int pk_hist_stack_depth(const struct pk_hist *h, unsigned int id)
{
	int i, k;

	for (i = 0; h && id < h->nev && i < h->ev[id].ntrigs; i++)
		for (k = 0; k < h->ev[id].trigs[i]->nkeys; k++)
			if (h->ev[id].trigs[i]->keys[k]->flags & HF_STACKTRACE)
				return HIST_STACK_DEPTH;
	return 0;
}

int pk_hist_any(const struct pk_hist *h)
{
	unsigned int i;

	for (i = 0; h && i < h->nev; i++)
		if (h->ev[i].ntrigs)
			return 1;
	return 0;
}

/* --- the map: tracing_map's behaviour (hits, drops at max_elts) --- */

static uint32_t hash_key(const uint8_t *k, unsigned int n)
{
	uint32_t x = 2166136261u;

	while (n--)
		x = (x ^ *k++) * 16777619u;
	return x;
}

static struct helt *map_find(struct htrig *t, const uint8_t *key, int insert, const char *comm)
{
	uint32_t i, mask;
	struct helt *e;

	if (!t->slots) {
		if (!insert)
			return NULL;
		t->max_elts = 1u << t->map_bits;
		t->nslots = 2 * t->max_elts;
		t->slots = calloc(t->nslots, sizeof(*t->slots));
		t->elts = calloc(t->max_elts, sizeof(*t->elts));
		if (!t->slots || !t->elts) {
			free(t->slots);
			free(t->elts);
			t->slots = NULL;
			t->elts = NULL;
			t->drops++;
			return NULL;
		}
	}
	mask = t->nslots - 1;
	for (i = hash_key(key, t->key_size) & mask;; i = (i + 1) & mask) {
		if (!t->slots[i])
			break;
		e = t->elts[t->slots[i] - 1];
		if (!memcmp(e->key, key, t->key_size)) {
			if (insert)
				t->hits++;
			return e;
		}
	}
	if (!insert)
		return NULL;
	if (t->nelts == t->max_elts || !(e = calloc(1, sizeof(*e) + t->key_size)) ||
	    (t->nsave && !(e->saved = calloc((size_t)t->nsave, sizeof(*e->saved))))) {
		if (t->nelts < t->max_elts)
			free(e);
		t->drops++;
		return NULL;
	}
	memcpy(e->key, key, t->key_size);
	snprintf(e->comm, sizeof(e->comm), "%s", comm ? comm : "");
	t->elts[t->nelts++] = e;
	t->slots[i] = t->nelts;
	t->hits++;
	return e;
}

struct helt *hist_lookup(struct htrig *t, const uint8_t *key)
{
	return map_find(t, key, 0, NULL);
}

/* --- values --- */

struct hctx {
	struct pk_hist *h;
	struct hevent *ev;
	const uint8_t *rec;
	size_t len;
	const struct pk_hist_hit *hit;
	struct htrig *t;
	uint64_t *refvals;
};

static uint64_t arg_value(const struct pk_event_def *d, int i, const uint8_t *rec, size_t len)
{
	const struct pk_event_arg *a = &d->args[i];
	unsigned int n = a->size > 8 ? 8 : a->size;
	uint64_t v;

	if ((size_t)a->offset + a->size > len)
		return a->dynamic ? (uintptr_t) "" : 0;
	if (a->dynamic) {
		uint32_t dl = (uint32_t)pk_event_get_le(rec + a->offset, 4);
		size_t l = dl >> 16, off = dl & 0xffff;

		/* A string that could not be read is empty, as the kernel's key is. */
		if (!l || off + l > len || rec[off + l - 1])
			return (uintptr_t) "";
		return (uintptr_t)(rec + off);
	}
	v = pk_event_get_le(rec + a->offset, n);
	if (a->type >= PK_EVT_S8 && a->type <= PK_EVT_S64 && n < 8 && ((v >> (8 * n - 1)) & 1))
		v |= ~0ull << (8 * n);
	return v;
}

static unsigned int ilog2_roundup(uint64_t v)
{
	unsigned int b = 0;

	/* ilog2(roundup_pow_of_two(v)); 0 and 1 are 0, as the kernel computes them. */
	if (v <= 1)
		return 0;
	v--;
	while (v) {
		v >>= 1;
		b++;
	}
	return b;
}

/* hist_field_div() and the constant-divisor functions it picks at parse time. */
static uint64_t hist_div(uint64_t a, uint64_t b, int const_divisor)
{
	if (!b)
		return (uint64_t)-1;
	if (!(b & (b - 1)))
		return a >> __builtin_ctzll(b);
	if (const_divisor && b <= (1u << 20) && a < (1u << 20)) {
		uint64_t mult = (1ull << 20) / b;

		return (a * mult + ((1u << 20) - 1)) >> 20;
	}
	return a / b;
}

static uint64_t eval(const struct hfield *f, struct hctx *c)
{
	uint64_t a, b;

	if (f->flags & HF_REF)
		return c->refvals[f->ref_idx];
	if (f->flags & HF_ALIAS)
		return eval(f->operands[0], c);
	if (f->flags & HF_CONST)
		return f->constant;
	if (f->flags & HF_EXPR) {
		a = eval(f->operands[0], c);
		if (f->op == OP_UMINUS)
			return (uint64_t) - (int64_t)a;
		b = eval(f->operands[1], c);
		switch (f->op) {
		case OP_PLUS: return a + b;
		case OP_MINUS: return a - b;
		case OP_MULT: return a * b;
		default: return hist_div(a, b, !!(f->operands[1]->flags & HF_CONST));
		}
	}
	if (f->flags & HF_LOG2)
		return ilog2_roundup(eval(f->operands[0], c));
	if (f->flags & HF_BUCKET)
		return eval(f->operands[0], c) / f->buckets * f->buckets;
	if (f->flags & HF_HITCOUNT)
		return 1;
	if (f->flags & HF_TIMESTAMP)
		return c->t->ts_usecs ? (c->hit->ts_ns + 500) / 1000 : c->hit->ts_ns;
	if (f->flags & HF_CPU)
		return c->hit->cpu;
	if (f->arg == ARG_PID)
		return (uint64_t)(int64_t)(int32_t)c->hit->tid;
	if (f->arg == ARG_COMM)
		return (uintptr_t)(c->hit->comm ? c->hit->comm : "");
	if (f->arg >= 0)
		return arg_value(c->ev->def, f->arg, c->rec, c->len);
	return 0;
}

static void event_hit(struct pk_hist *h, struct hevent *ev, const uint8_t *rec, size_t len,
		      const struct pk_hist_hit *hit);

/* trace(): the synthetic event's record from the parameters, and its own hit. */
static void fire(struct hctx *c, const struct hact *a)
{
	struct hevent *se = &c->h->ev[a->synth];
	const struct pk_event_def *d = se->def;
	uint8_t rec[HIST_PARAMS_MAX * 8 + HIST_PARAMS_MAX / 8 + 1] = {0};
	int i;

	for (i = 0; i < a->nparams && i < d->nargs; i++) {
		uint64_t v = eval(a->pf[i], c);
		unsigned int k;

		for (k = 0; k < d->args[i].size; k++)
			rec[d->args[i].offset + k] = (uint8_t)(v >> (8 * k));
	}
	if (c->h->depth >= HIST_DEPTH_MAX)
		return;
	c->h->depth++;
	event_hit(c->h, se, rec, d->dyn_offset, c->hit);
	if (!se->ntrigs && c->h->emit)
		c->h->emit(c->h->ctx, d, rec, d->dyn_offset, c->hit);
	c->h->depth--;
}

static void trig_hit(struct hctx *c, struct htrig *t)
{
	uint8_t key[HIST_KEY_MAX];
	uint64_t refvals[HIST_VARS_MAX] = {0};
	struct helt *e;
	int i;

	if (t->filter) {
		struct pk_filter_ctx fc = {.pid = c->hit->tid, .comm = c->hit->comm};

		if (!pk_filter_match(t->filter, c->ev->def, c->rec, c->len, &fc))
			return;
	}
	c->t = t;
	c->refvals = refvals;
	memset(key, 0, sizeof(key));
	for (i = 0; i < t->nkeys; i++) {
		const struct hfield *k = t->keys[i];
		uint64_t v;

		if (k->flags & HF_STACKTRACE) {
			unsigned int n =
			    c->hit->nstack < HIST_STACK_DEPTH ? c->hit->nstack : HIST_STACK_DEPTH;

			if (n)
				memcpy(key + k->offset, c->hit->stack, n * sizeof(uint64_t));
			continue;
		}
		v = eval(k, c);
		if (k->flags & HF_STRING)
			strncpy((char *)key + k->offset, (const char *)(uintptr_t)v,
				HIST_STR_MAX - 1);
		else
			memcpy(key + k->offset, &v, sizeof(v));
	}
	/* Other triggers' variables for this key: all set, or no hit. */
	for (i = 0; i < t->nrefs; i++) {
		const struct hfield *r = t->refs[i];
		struct helt *o;

		if (r->var_trig == t)
			continue;
		o = hist_lookup(r->var_trig, key);
		if (!o || !(o->varset & (1u << r->var_idx)))
			return;
		refvals[i] = o->vars[r->var_idx];
		if (r->read_once)
			o->varset &= ~(1u << r->var_idx);
	}
	if (!(e = map_find(t, key, 1, c->hit->comm)))
		return;
	for (i = 0; i < t->nvals; i++)
		e->sums[i] += eval(t->vals[i], c);
	for (i = 0; i < t->nvars; i++) {
		e->vars[i] = eval(t->vars[i], c);
		e->varset |= 1u << i;
	}
	for (i = 0; i < t->nrefs; i++) {
		const struct hfield *r = t->refs[i];

		if (r->var_trig != t)
			continue;
		if (!(e->varset & (1u << r->var_idx)))
			return;
		refvals[i] = e->vars[r->var_idx];
	}
	for (i = 0; i < t->nacts; i++) {
		const struct hact *a = &t->acts[i];

		if (a->handler != H_ONMATCH) {
			uint64_t v = refvals[a->track_ref->ref_idx];
			int j;

			if (a->handler == H_ONMAX ? v <= e->track[a->slot] : v == e->track[a->slot])
				continue;
			e->track[a->slot] = v;
			if (a->action == A_SAVE) {
				for (j = 0; j < t->nsave; j++)
					e->saved[j] = eval(t->save[j], c);
				continue;
			}
		}
		fire(c, a);
		c->t = t;
		c->refvals = refvals;
	}
}

static void event_hit(struct pk_hist *h, struct hevent *ev, const uint8_t *rec, size_t len,
		      const struct pk_hist_hit *hit)
{
	struct hctx c = {.h = h, .ev = ev, .rec = rec, .len = len, .hit = hit};
	int i;

	for (i = 0; i < ev->ntrigs; i++)
		trig_hit(&c, ev->trigs[i]);
}

void pk_hist_record(struct pk_hist *h, unsigned int id, const void *rec, size_t len,
		    const struct pk_hist_hit *hit)
{
	if (h && id < h->nev && h->ev[id].ntrigs)
		event_hit(h, &h->ev[id], rec, len, hit);
}
