// SPDX-License-Identifier: MIT
/* trace_pipe lines and format files of the kernel's probe events, read back. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/kline.h"
#include "events/events.h"
#include "sbuf.h"

/* ---- format files ---- */

/* The print format's text, unescaped: (%lx) a=%d s="%s" */
static char *print_fmt(const char *format)
{
	const char *p = strstr(format, "print fmt: \"");
	char *out, *o;

	if (!p)
		return NULL;
	p += strlen("print fmt: \"");
	out = o = calloc(1, strlen(p) + 1);
	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		*o++ = *p;
	}
	*o = 0;
	return out;
}

int pk_kformat_parse(const char *text, struct pk_kformat *f)
{
	char *buf = strdup(text), *line, *save = NULL, *fmt = print_fmt(text);
	const char *at;
	unsigned int i;
	int err = 0;

	f->fields = NULL;
	f->n = 0;
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *fl = strstr(line, "field:"), *semi, *name, *br;
		struct pk_kfield *grown;

		if (!fl || !(semi = strchr(fl, ';')))
			continue;
		*semi = 0;
		name = strrchr(fl, ' ');
		name = name ? name + 1 : fl + 6;
		br = strchr(name, '[');
		if (br)
			*br = 0;
		if (!strncmp(name, "common_", 7) || !strncmp(name, "__probe_", 8))
			continue;
		grown = realloc(f->fields, (f->n + 1) * sizeof(*f->fields));
		if (!grown || !(name = strdup(name))) {
			if (grown)
				f->fields = grown;
			err = -ENOMEM;
			break;
		}
		f->fields = grown;
		f->fields[f->n].name = name;
		f->fields[f->n].fmt = NULL;
		f->n++;
	}
	free(buf);
	/* Each field's piece of the print format: from " NAME=" to the next one. */
	at = fmt;
	for (i = 0; fmt && i < f->n; i++) {
		char key[PK_EV_MAX_ARG_NAME + 4];
		const char *start, *stop = NULL;

		snprintf(key, sizeof(key), " %s=", f->fields[i].name);
		start = strstr(at, key);
		if (!start)
			break;
		start += strlen(key);
		if (i + 1 < f->n) {
			snprintf(key, sizeof(key), " %s=", f->fields[i + 1].name);
			stop = strstr(start, key);
		}
		if (!stop)
			stop = start + strlen(start);
		f->fields[i].fmt = strndup(start, (size_t)(stop - start));
		at = stop;
	}
	free(fmt);
	return buf ? err : -ENOMEM;
}

void pk_kformat_free(struct pk_kformat *f)
{
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		free(f->fields[i].name);
		free(f->fields[i].fmt);
	}
	free(f->fields);
	f->fields = NULL;
	f->n = 0;
}

/* ---- lines ---- */

static const char *digits(const char *p, const char *end, unsigned long long *v)
{
	const char *s = p;

	*v = 0;
	while (p < end && isdigit((unsigned char)*p))
		*v = *v * 10 + (unsigned long long)(*p++ - '0');
	return p > s ? p : NULL;
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

/* "COMM-TID (TGID) [CPU] FLAGS SEC.USEC: EVENT: (PROBE) ARGS", the tgid only with record-tgid. */
static int parse_head(const char *s, const char *end, const char *dash, struct pk_kline *k)
{
	const char *p = dash + 1, *q;
	unsigned long long v;

	if (!(p = digits(p, end, &v)))
		return -1;
	k->tid = (unsigned int)v;
	p = skip_spaces(p, end);
	k->tgid = -1;
	if (p < end && *p == '(') {
		q = memchr(p, ')', (size_t)(end - p));
		if (!q)
			return -1;
		p = skip_spaces(p + 1, q);
		if (digits(p, q, &v))
			k->tgid = (int)v;
		p = skip_spaces(q + 1, end);
	}
	if (p >= end || *p != '[' || !(p = digits(p + 1, end, &v)) || p >= end || *p != ']')
		return -1;
	k->cpu = (unsigned int)v;
	p = skip_spaces(p + 1, end);
	k->flags = p;
	while (p < end && *p != ' ')
		p++;
	k->flags_len = (size_t)(p - k->flags);
	p = skip_spaces(p, end);
	if (!k->flags_len || !(p = digits(p, end, &k->sec)))
		return -1;
	k->usec = 0;
	if (p < end && *p == '.') {
		const char *f = p + 1;

		if (!(p = digits(f, end, &v)))
			return -1;
		/* Microseconds whatever the number of digits shown. */
		for (; p - f < 6; f--)
			v *= 10;
		for (; p - f > 6; f++)
			v /= 10;
		k->usec = (unsigned int)v;
	}
	if (end - p < 2 || p[0] != ':' || p[1] != ' ')
		return -1;
	k->event = p += 2;
	while (p < end && *p != ':')
		p++;
	k->event_len = (size_t)(p - k->event);
	if (end - p < 2 || p[1] != ' ')
		return -1;
	p += 2;
	k->probe = p;
	k->probe_len = 0;
	if (p < end && *p == '(' && (q = memchr(p, ')', (size_t)(end - p)))) {
		k->probe = p + 1;
		k->probe_len = (size_t)(q - p - 1);
		p = q + 1;
	}
	k->args = p;
	/* The command is right-aligned in 16 columns. */
	while (s < dash && *s == ' ')
		s++;
	k->comm = s;
	k->comm_len = (size_t)(dash - s);
	return 0;
}

int pk_kline_parse(const char *s, size_t len, struct pk_kline *k)
{
	const char *end = s + len, *dash;

	/* The command may hold '-': the first dash that the rest fits after. */
	for (dash = s; (dash = memchr(dash, '-', (size_t)(end - dash))); dash++)
		if (!parse_head(s, end, dash, k))
			return 0;
	return -EINVAL;
}

static void json_text(struct pk_sbuf *o, const char *s, size_t n)
{
	char small[512];
	size_t need = 6 * n + 1;
	char *buf = need <= sizeof(small) ? small : malloc(need);

	pk_sbuf_putc(o, '"');
	if (buf) {
		pk_event_json_escape(s, n, buf, need);
		pk_sbuf_puts(o, buf);
		if (buf != small)
			free(buf);
	}
	pk_sbuf_putc(o, '"');
}

static int is_integer(const char *s, size_t n)
{
	size_t i = n && *s == '-';

	if (i == n)
		return 0;
	for (; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The conversion of a print format: 's', 'c', 'x', 'd', 'u', 'p'..., 0 for none. */
static char conv_of(const char *fmt)
{
	const char *c = fmt ? strchr(fmt, '%') : NULL;

	if (!c)
		return 0;
	for (c++; *c == 'l' || *c == 'L' || *c == 'h' || *c == 'z'; c++)
		;
	return *c == 'X' ? 'x' : *c == 'i' ? 'd' : *c;
}

static int is_fault(const char *v, size_t n)
{
	return n == 7 && !memcmp(v, "(fault)", 7);
}

/* "0x1f" -> 31; 0, or -EINVAL for anything else. */
static int hex_value(const char *v, size_t n, unsigned long long *x)
{
	char num[32], *end;

	if (n <= 2 || n >= sizeof(num) || v[0] != '0' || v[1] != 'x')
		return -EINVAL;
	snprintf(num, sizeof(num), "%.*s", (int)n - 2, v + 2);
	errno = 0;
	*x = strtoull(num, &end, 16);
	return *end || errno || !isxdigit((unsigned char)num[0]) ? -EINVAL : 0;
}

/* Calls @fn for each element of "{a,b,c}" (commas inside quotes do not count). */
static void each_element(const char *v, size_t n, void (*fn)(const char *, size_t, void *),
			 void *arg)
{
	const char *p = v + 1, *e;
	int quoted = 0;

	for (e = p; e < v + n - 1; e++) {
		if (*e == '"')
			quoted = !quoted;
		if (*e != ',' || quoted)
			continue;
		fn(p, (size_t)(e - p), arg);
		p = e + 1;
	}
	fn(p, (size_t)(e - p), arg);
}

static int is_array(const char *v, size_t n, const char *fmt)
{
	return fmt && fmt[0] == '{' && n >= 2 && v[0] == '{' && v[n - 1] == '}';
}

struct fit {
	const char *fmt;
	int ok;
};

static int fits(const char *v, size_t n, const char *fmt);

static void element_fits(const char *v, size_t n, void *arg)
{
	struct fit *f = arg;

	f->ok = f->ok && fits(v, n, f->fmt);
}

/* Whether @v reads as the kernel prints a value with @fmt. */
static int fits(const char *v, size_t n, const char *fmt)
{
	unsigned long long x;

	if (fmt && fmt[0] == '{') {
		struct fit f = {fmt + 1, 1};

		if (!is_array(v, n, fmt))
			return 0;
		each_element(v, n, element_fits, &f);
		return f.ok;
	}
	switch (conv_of(fmt)) {
	case 's': return (n >= 2 && v[0] == '"' && v[n - 1] == '"') || is_fault(v, n);
	case 'c': return n >= 2 && v[0] == '\'' && v[n - 1] == '\'';
	case 'x': return !hex_value(v, n, &x);
	case 'd':
	case 'u': return is_integer(v, n);
	default: return 1;
	}
}

/* One value as the kernel printed it with @fmt, as JSON (the user-space tracer's types). */
static void json_scalar(struct pk_sbuf *o, const char *v, size_t n, const char *fmt)
{
	unsigned long long x;
	char num[32];
	size_t i;

	switch (conv_of(fmt)) {
	case 's': /* strings: quoted, or (fault) */
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
			json_text(o, v + 1, n - 2);
		else if (is_fault(v, n))
			pk_sbuf_puts(o, "null");
		else
			json_text(o, v, n);
		return;
	case 'c': /* 'X' */
		if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'')
			json_text(o, v + 1, n - 2);
		else
			json_text(o, v, n);
		return;
	case 'x':
		if (!hex_value(v, n, &x)) {
			snprintf(num, sizeof(num), "%llu", x);
			pk_sbuf_puts(o, num);
		} else {
			pk_sbuf_puts(o, "null");
		}
		return;
	case 'd':
	case 'u':
		if (!is_integer(v, n)) {
			pk_sbuf_puts(o, "null");
			return;
		}
		for (i = 0; i < n; i++)
			pk_sbuf_putc(o, v[i]);
		return;
	default: /* %pS and whatever else: text */ json_text(o, v, n); return;
	}
}

struct elements {
	struct pk_sbuf *o;
	const char *fmt;
	int first;
};

static void element_json(const char *v, size_t n, void *arg)
{
	struct elements *e = arg;

	if (!e->first)
		pk_sbuf_putc(e->o, ',');
	e->first = 0;
	json_scalar(e->o, v, n, e->fmt);
}

static void json_value(struct pk_sbuf *o, const char *v, size_t n, const char *fmt)
{
	struct elements e = {o, fmt ? fmt + 1 : NULL, 1};

	if (!is_array(v, n, fmt)) {
		json_scalar(o, v, n, fmt);
		return;
	}
	pk_sbuf_putc(o, '[');
	each_element(v, n, element_json, &e);
	pk_sbuf_putc(o, ']');
}

static const char *find_key(const char *from, const char *end, const struct pk_kformat *f,
			    unsigned int i, size_t *klen)
{
	char key[PK_EV_MAX_ARG_NAME + 4];

	snprintf(key, sizeof(key), " %s=", f->fields[i].name);
	*klen = strlen(key);
	return memmem(from, (size_t)(end - from), key, *klen);
}

/*
 * Where argument @i's value, starting at @v, ends: at the next argument's
 * " name=". The kernel does not escape strings, so a string may hold that
 * text: the place taken is the first where this value and the next one
 * both read as their formats print.
 */
static const char *value_end(const char *v, const char *end, const struct pk_kformat *f,
			     unsigned int i)
{
	const char *p, *first = NULL, *own = NULL;
	size_t kl, kl2;

	if (i + 1 >= f->n)
		return end;
	for (p = v; (p = find_key(p, end, f, i + 1, &kl)); p++) {
		const char *nv = p + kl, *ne = NULL;

		if (!first)
			first = p;
		if (!fits(v, (size_t)(p - v), f->fields[i].fmt))
			continue;
		if (!own)
			own = p;
		if (i + 2 < f->n)
			ne = find_key(nv, end, f, i + 2, &kl2);
		if (fits(nv, (size_t)((ne ? ne : end) - nv), f->fields[i + 1].fmt))
			return p;
	}
	return own ? own : first ? first : end;
}

int pk_kline_json_args(const struct pk_kline *k, const char *end, const struct pk_kformat *f,
		       char *buf, size_t size)
{
	struct pk_sbuf o = {buf, size, 0};
	const char *p = k->args;
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		const char *v, *ve;
		size_t kl;

		v = find_key(p, end, f, i, &kl);
		if (!v)
			break;
		v += kl;
		ve = value_end(v, end, f, i);
		if (i)
			pk_sbuf_putc(&o, ',');
		json_text(&o, f->fields[i].name, strlen(f->fields[i].name));
		pk_sbuf_putc(&o, ':');
		json_value(&o, v, (size_t)(ve - v), f->fields[i].fmt);
		p = ve;
	}
	return pk_sbuf_finish(&o);
}

int pk_kline_flags_wrapped(const struct pk_kline *k)
{
	return k->flags_len >= 2 && !memcmp(k->flags + k->flags_len - 2, "ff", 2);
}
