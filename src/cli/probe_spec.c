// SPDX-License-Identifier: MIT
/*
 * perf probe's definition syntax (tools/perf/Documentation/perf-probe.txt):
 *   [[GROUP:]EVENT=]FUNC[@SRC][:RLN|+OFFS|%return|;PTN] [ARG ...]
 *   [[GROUP:]EVENT=]SRC:ALN [ARG ...]     [[GROUP:]EVENT=]SRC;PTN [ARG ...]
 * and an argument: [NAME=]LOCALVAR|$retval|%REG|@SYMBOL|$params|$vars[:TYPE].
 * As perf does, a point whose name holds a '.' or a '/' is a source file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/probe_int.h"

static int is_ident(const char *s, size_t n)
{
	size_t i;

	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int parse_number(const char *s, long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	*v = strtol(s, &end, 0);
	return *end ? -EINVAL : 0;
}

/* "[[GROUP:]EVENT=]" at the start of @w; returns the point after it. */
static const char *parse_event(struct pk_pp *pp, const char *w, char *why, size_t n)
{
	const char *eq = strchr(w, '='), *colon;

	if (!eq)
		return w;
	colon = memchr(w, ':', (size_t)(eq - w));
	if (colon) {
		if (!is_ident(w, (size_t)(colon - w)))
			return NULL;
		pp->group = strndup(w, (size_t)(colon - w));
		w = colon + 1;
	}
	if (!is_ident(w, (size_t)(eq - w))) {
		pk_pp_fail(why, n, -EINVAL, "'%.*s' is not an event name (C identifier rules)",
			   (int)(eq - w), w);
		return NULL;
	}
	pp->event = strndup(w, (size_t)(eq - w));
	return eq + 1;
}

static int parse_point(struct pk_pp *pp, const char *w, char *why, size_t n)
{
	size_t namelen = strcspn(w, ";:+@%");
	const char *p = w + namelen;
	char *name = strndup(w, namelen);
	long v;

	pp->line = -1;
	pp->point = strdup(w);
	if (!name || !pp->point)
		return -ENOMEM;
	if (!namelen)
		return pk_pp_fail(why, n, -EINVAL, "'%s': no function or file before '%c'", w, *p);
	if (strpbrk(name, "./"))
		pp->file = name;
	else
		pp->func = name;
	if (*p == '@') {
		if (pp->file)
			return pk_pp_fail(why, n, -EINVAL, "'%s': @SRC follows a function", w);
		namelen = strcspn(p + 1, ";:+%");
		pp->file = strndup(p + 1, namelen);
		p += 1 + namelen;
		if (!namelen)
			return pk_pp_fail(why, n, -EINVAL, "'%s': no file after '@'", w);
	}
	switch (*p) {
	case 0:
		if (!pp->func)
			return pk_pp_fail(why, n, -EINVAL, "'%s': a file needs :LINE or ;PATTERN",
					  w);
		return 0;
	case ':':
		if (parse_number(p + 1, &v) || v < 0)
			return pk_pp_fail(why, n, -EINVAL, "'%s': a line number follows ':'", w);
		pp->line = (int)v;
		return 0;
	case '+':
		if (!pp->func || parse_number(p + 1, &v) || v < 0)
			return pk_pp_fail(why, n, -EINVAL, "'%s': an offset in bytes follows FUNC+",
					  w);
		pp->offset = (unsigned long)v;
		pp->has_offset = 1;
		return 0;
	case '%':
		if (!pp->func || strcmp(p, "%return"))
			return pk_pp_fail(why, n, -EINVAL, "'%s': only FUNC%%return is known", w);
		pp->retprobe = 1;
		return 0;
	case ';':
		if (!p[1])
			return pk_pp_fail(why, n, -EINVAL, "'%s': no pattern after ';'", w);
		pp->lazy = strdup(p + 1);
		return pp->lazy ? 0 : -ENOMEM;
	}
	return pk_pp_fail(why, n, -EINVAL, "'%s': unexpected '%c'", w, *p);
}

/* Where :TYPE starts in @s (a variable expression), or NULL. */
static const char *type_colon(const char *s)
{
	/* Raw fetch arguments ("+8(%si):u32", "@sym:string") hold no other ':'. */
	return strrchr(s, ':');
}

static int parse_arg(struct pk_pp_arg *a, const char *w, char *why, size_t n)
{
	const char *eq = strchr(w, '='), *tc;

	a->text = strdup(w);
	if (eq && is_ident(w, (size_t)(eq - w))) {
		a->name = strndup(w, (size_t)(eq - w));
		w = eq + 1;
	}
	tc = type_colon(w);
	if (tc) {
		a->type = strdup(tc + 1);
		a->expr = strndup(w, (size_t)(tc - w));
	} else {
		a->expr = strdup(w);
	}
	if (!a->text || !a->expr || (tc && !a->type))
		return -ENOMEM;
	if (!a->expr[0])
		return pk_pp_fail(why, n, -EINVAL, "'%s': no argument expression", a->text);
	return 0;
}

int pk_pp_parse(const char *text, struct pk_pp *pp, char *why, size_t n)
{
	char *copy = strdup(text), *save = NULL, *w;
	const char *point;
	int err = 0;

	memset(pp, 0, sizeof(*pp));
	pp->line = -1;
	if (n)
		why[0] = 0;
	if (!copy)
		return -ENOMEM;
	w = strtok_r(copy, " \t\n", &save);
	if (!w) {
		free(copy);
		return pk_pp_fail(why, n, -EINVAL, "empty probe definition");
	}
	point = parse_event(pp, w, why, n);
	err = point ? parse_point(pp, point, why, n) : -EINVAL;
	if (!point && !why[0])
		pk_pp_fail(why, n, -EINVAL, "'%s': bad GROUP:EVENT=", w);
	while (!err && (w = strtok_r(NULL, " \t\n", &save))) {
		if (pp->nargs == PK_PP_MAX_ARGS) {
			err = pk_pp_fail(why, n, -E2BIG, "more than %d arguments", PK_PP_MAX_ARGS);
			break;
		}
		err = parse_arg(&pp->args[pp->nargs++], w, why, n);
	}
	free(copy);
	if (err)
		pk_pp_free(pp);
	return err;
}

void pk_pp_free(struct pk_pp *pp)
{
	int i;

	for (i = 0; i < pp->nargs; i++) {
		free(pp->args[i].name);
		free(pp->args[i].expr);
		free(pp->args[i].type);
		free(pp->args[i].text);
	}
	free(pp->group);
	free(pp->event);
	free(pp->func);
	free(pp->file);
	free(pp->lazy);
	free(pp->point);
	memset(pp, 0, sizeof(*pp));
}

int pk_pp_parse_range(const char *text, struct pk_pp_range *r, char *why, size_t n)
{
	size_t namelen = strcspn(text, ":@");
	const char *p = text + namelen;
	char *name = strndup(text, namelen), *end, sep;
	long a, b;

	memset(r, 0, sizeof(*r));
	r->end = -1;
	if (!name)
		return -ENOMEM;
	if (strpbrk(name, "./"))
		r->file = name;
	else
		r->func = name;
	if (*p == '@' && r->func) {
		namelen = strcspn(p + 1, ":");
		r->file = strndup(p + 1, namelen);
		p += 1 + namelen;
	}
	if (!*p)
		return 0;
	if (*p != ':' || !isdigit((unsigned char)p[1]))
		goto bad;
	a = strtol(p + 1, &end, 10);
	r->start = (int)a;
	if (!*end)
		return 0;
	if ((*end != '-' && *end != '+') || !isdigit((unsigned char)end[1]))
		goto bad;
	sep = *end;
	b = strtol(end + 1, &end, 10);
	r->end = (int)(sep == '-' ? b : a + b - 1);
	if (*end || r->end < r->start)
		goto bad;
	return 0;
bad:
	pk_pp_range_free(r);
	return pk_pp_fail(why, n, -EINVAL,
			  "'%s': -L takes FUNC[@SRC][:START[-END|+COUNT]] or "
			  "SRC[:START[-END|+COUNT]]",
			  text);
}

void pk_pp_range_free(struct pk_pp_range *r)
{
	free(r->func);
	free(r->file);
	memset(r, 0, sizeof(*r));
}
