// SPDX-License-Identifier: MIT
/*
 * Event filters in ftrace's language ("a > 10 && s ~ \"*.so\""), compiled
 * once into a tree per event and evaluated on each record the CLI reads:
 * comparisons == != < <= > >= on numbers, == != ~ (glob) on strings, & (any
 * bit set) on numbers, combined with && || ! and parentheses. Fields are the
 * event's arguments, plus common_pid and comm.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cli/filter.h"

enum { N_OR, N_AND, N_NOT, N_PRED };
enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_BAND, OP_GLOB };
#define F_PID  (-1)
#define F_COMM (-2)

struct pk_filter {
	int kind;
	struct pk_filter *l, *r;
	int field; /* argument index, F_PID or F_COMM */
	int op;
	int is_str;
	long long num;
	char *str;
};

struct parser {
	const struct pk_event_def *def;
	const char *s, *p;
	const char *err;
	int errpos;
};

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static struct pk_filter *fail(struct parser *ps, const char *at, const char *msg)
{
	if (!ps->err) {
		ps->err = msg;
		ps->errpos = (int)(at - ps->s);
	}
	return NULL;
}

static struct pk_filter *node(int kind, struct pk_filter *l, struct pk_filter *r)
{
	struct pk_filter *n = calloc(1, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->l = l;
		n->r = r;
	}
	return n;
}

static int is_string_type(uint8_t type)
{
	return type == PK_EVT_STRING || type == PK_EVT_USTRING || type == PK_EVT_SYMSTR;
}

static int parse_op(struct parser *ps)
{
	static const struct {
		const char *s;
		int op;
	} ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE},	 {">=", OP_GE},
		   {"<", OP_LT},  {">", OP_GT},	 {"&", OP_BAND}, {"~", OP_GLOB}};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].s);

		/* "&&" is not "&". */
		if (!strncmp(ps->p, ops[i].s, n) && !(ops[i].op == OP_BAND && ps->p[1] == '&')) {
			ps->p += n;
			return ops[i].op;
		}
	}
	return -1;
}

static struct pk_filter *parse_pred(struct parser *ps)
{
	const char *start = ps->p, *opat, *valat;
	struct pk_filter *n;
	char name[64];
	size_t len = 0;
	unsigned int i;
	int field = -3, str_field = 0;

	while ((ps->p[len] >= 'a' && ps->p[len] <= 'z') ||
	       (ps->p[len] >= 'A' && ps->p[len] <= 'Z') ||
	       (ps->p[len] >= '0' && ps->p[len] <= '9') || ps->p[len] == '_')
		len++;
	if (!len || len >= sizeof(name))
		return fail(ps, start, "Missing field name and/or value");
	memcpy(name, ps->p, len);
	name[len] = 0;
	ps->p += len;
	if (!strcmp(name, "common_pid")) {
		field = F_PID;
	} else if (!strcmp(name, "comm") || !strcmp(name, "COMM")) {
		field = F_COMM;
		str_field = 1;
	} else {
		for (i = 0; i < ps->def->nargs; i++) {
			if (!strcmp(ps->def->args[i].name, name)) {
				field = (int)i;
				str_field = is_string_type(ps->def->args[i].type);
				if (ps->def->args[i].count)
					return fail(ps, start, "Illegal operation for field type");
			}
		}
	}
	if (field == -3)
		return fail(ps, start, "Field not found");
	skip_ws(ps);
	opat = ps->p;
	n = node(N_PRED, NULL, NULL);
	if (!n)
		return fail(ps, start, "Out of memory");
	n->field = field;
	n->is_str = str_field;
	n->op = parse_op(ps);
	if (n->op < 0) {
		free(n);
		return fail(ps, opat, "Invalid operator");
	}
	if (str_field && n->op != OP_EQ && n->op != OP_NE && n->op != OP_GLOB) {
		free(n);
		return fail(ps, opat, "Illegal operation for field type");
	}
	if (!str_field && n->op == OP_GLOB) {
		free(n);
		return fail(ps, opat, "Illegal operation for field type");
	}
	skip_ws(ps);
	valat = ps->p;
	if (str_field) {
		char q = *ps->p;
		const char *b;

		if (q == '"' || q == '\'') {
			b = ++ps->p;
			while (*ps->p && *ps->p != q)
				ps->p++;
			if (!*ps->p) {
				free(n);
				return fail(ps, valat, "Unbalanced quotes");
			}
			n->str = strndup(b, (size_t)(ps->p - b));
			ps->p++;
		} else {
			b = ps->p;
			while (*ps->p && *ps->p != ' ' && *ps->p != ')' && *ps->p != '&' &&
			       *ps->p != '|')
				ps->p++;
			n->str = strndup(b, (size_t)(ps->p - b));
		}
		if (!n->str || (!*n->str && valat == ps->p)) {
			free(n->str);
			free(n);
			return fail(ps, valat, "Missing field name and/or value");
		}
	} else {
		char *end;

		errno = 0;
		n->num = strtoll(ps->p, &end, 0);
		if (end == ps->p || errno) {
			/* Unsigned values above LLONG_MAX, as ftrace takes them. */
			n->num = (long long)strtoull(ps->p, &end, 0);
			if (end == ps->p) {
				free(n);
				return fail(ps, valat, "Missing field name and/or value");
			}
		}
		ps->p = end;
	}
	return n;
}

static struct pk_filter *parse_or(struct parser *ps);

static struct pk_filter *parse_factor(struct parser *ps)
{
	struct pk_filter *n;
	const char *at;

	skip_ws(ps);
	at = ps->p;
	if (*ps->p == '!' && ps->p[1] != '=') {
		ps->p++;
		n = parse_factor(ps);
		return n ? node(N_NOT, n, NULL) : NULL;
	}
	if (*ps->p == '(') {
		ps->p++;
		n = parse_or(ps);
		skip_ws(ps);
		if (n && *ps->p != ')') {
			pk_filter_free(n);
			return fail(ps, at, "Unbalanced parens");
		}
		if (n)
			ps->p++;
		return n;
	}
	return parse_pred(ps);
}

static struct pk_filter *parse_binary(struct parser *ps, const char *tok, int kind,
				      struct pk_filter *(*sub)(struct parser *))
{
	struct pk_filter *l = sub(ps), *r;

	for (;;) {
		skip_ws(ps);
		if (!l || strncmp(ps->p, tok, 2))
			return l;
		ps->p += 2;
		r = sub(ps);
		if (!r) {
			pk_filter_free(l);
			return NULL;
		}
		l = node(kind, l, r);
	}
}

static struct pk_filter *parse_and(struct parser *ps)
{
	return parse_binary(ps, "&&", N_AND, parse_factor);
}

static struct pk_filter *parse_or(struct parser *ps)
{
	return parse_binary(ps, "||", N_OR, parse_and);
}

int pk_filter_compile(const struct pk_event_def *def, const char *expr, struct pk_filter **out,
		      int *errpos, const char **errmsg)
{
	struct parser ps = {.def = def, .s = expr, .p = expr};
	struct pk_filter *f = parse_or(&ps);

	skip_ws(&ps);
	if (f && *ps.p) {
		pk_filter_free(f);
		f = fail(&ps, ps.p, "Meaningless filter expression");
	}
	if (!f) {
		*errpos = ps.err ? ps.errpos : 0;
		*errmsg = ps.err ? ps.err : "Out of memory";
		return -EINVAL;
	}
	*out = f;
	return 0;
}

void pk_filter_free(struct pk_filter *f)
{
	if (!f)
		return;
	pk_filter_free(f->l);
	pk_filter_free(f->r);
	free(f->str);
	free(f);
}

static int type_signed(uint8_t type)
{
	return type >= PK_EVT_S8 && type <= PK_EVT_S64;
}

/* Reads one field of the record; 0 if the record is too short for it. */
static int field_value(const struct pk_filter *f, const struct pk_event_def *def,
		       const uint8_t *rec, size_t len, const struct pk_filter_ctx *ctx,
		       long long *num, const char **str)
{
	const struct pk_event_arg *a;
	uint32_t dl;
	size_t off, n, i;
	uint64_t v;

	if (f->field == F_PID) {
		*num = ctx->pid;
		return 1;
	}
	if (f->field == F_COMM) {
		*str = ctx->comm;
		return 1;
	}
	a = &def->args[f->field];
	if ((size_t)a->offset + a->size > len)
		return 0;
	if (a->dynamic) {
		dl = (uint32_t)pk_event_get_le(rec + a->offset, 4);
		n = dl >> 16;
		off = dl & 0xffff;
		/* A string that could not be read is "(fault)", as it prints. */
		if (!n || off + n > len || rec[off + n - 1]) {
			*str = "(fault)";
			return 1;
		}
		for (i = 0; i + 1 < n && rec[off + i]; i++)
			;
		*str = (const char *)rec + off;
		return 1;
	}
	n = a->size;
	v = pk_event_get_le(rec + a->offset, n > 8 ? 8 : (unsigned int)n);
	if (type_signed(a->type) && n < 8 && (v >> (8 * n - 1)) & 1)
		v |= ~0ULL << (8 * n);
	*num = (long long)v;
	return 1;
}

int pk_filter_match(const struct pk_filter *f, const struct pk_event_def *def, const void *rec,
		    size_t len, const struct pk_filter_ctx *ctx)
{
	long long v = 0;
	const char *s = "";
	int unsigned_cmp;

	switch (f->kind) {
	case N_OR:
		return pk_filter_match(f->l, def, rec, len, ctx) ||
		       pk_filter_match(f->r, def, rec, len, ctx);
	case N_AND:
		return pk_filter_match(f->l, def, rec, len, ctx) &&
		       pk_filter_match(f->r, def, rec, len, ctx);
	case N_NOT: return !pk_filter_match(f->l, def, rec, len, ctx);
	default: break;
	}
	if (!field_value(f, def, rec, len, ctx, &v, &s))
		return 0;
	if (f->is_str) {
		switch (f->op) {
		case OP_EQ: return !strcmp(s, f->str);
		case OP_NE: return strcmp(s, f->str) != 0;
		default: return fnmatch(f->str, s, 0) == 0;
		}
	}
	unsigned_cmp = f->field >= 0 && !type_signed(def->args[f->field].type);
	switch (f->op) {
	case OP_EQ: return v == f->num;
	case OP_NE: return v != f->num;
	case OP_BAND: return (v & f->num) != 0;
	default: break;
	}
	if (unsigned_cmp) {
		unsigned long long a = (unsigned long long)v, b = (unsigned long long)f->num;

		return f->op == OP_LT	? a < b
		       : f->op == OP_LE ? a <= b
		       : f->op == OP_GT ? a > b
					: a >= b;
	}
	return f->op == OP_LT	? v < f->num
	       : f->op == OP_LE ? v <= f->num
	       : f->op == OP_GT ? v > f->num
				: v >= f->num;
}
