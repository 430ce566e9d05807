// SPDX-License-Identifier: MIT
/*
 * Records to text, as the kernel's trace output prints a probe event's
 * arguments (print_probe_args() and the print_type_*() functions), and to
 * JSON. A record comes from the traced process's ring buffer, which that
 * process could have scribbled over: every __data_loc is checked against
 * the record's length before a byte of the string is read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "events/ev_int.h"
#include "sbuf.h"

__attribute__((format(printf, 2, 3))) static void put_f(struct pk_sbuf *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		pk_sbuf_puts(o, tmp);
}

/* The string a __data_loc points at, or NULL if it is a fault or out of the record. */
static const char *loc_string(const uint8_t *rec, size_t len, const uint8_t *field, size_t *n)
{
	uint32_t dl = (uint32_t)pk_event_get_le(field, 4);
	size_t l = dl >> 16, off = dl & 0xffff, i;

	if (!l || off + l > len)
		return NULL;
	for (i = 0; i < l && rec[off + i]; i++)
		;
	*n = i;
	return (const char *)rec + off;
}

static void put_symbol(struct pk_sbuf *o, const struct pk_event_fmt *fmt, uint64_t addr, bool json);

static bool faulted(const struct pk_event_def *def, const uint8_t *rec, unsigned int i)
{
	return rec[def->fixed_size + i / 8] & (1u << (i % 8));
}

/* Formats a value for JSON or text; a string's bytes go through @str. */
static void put_json_bytes(struct pk_sbuf *o, const char *s, size_t n);

static void put_value(struct pk_sbuf *o, const struct pk_event_fmt *fmt, enum pk_ev_type type,
		      const uint8_t *rec, size_t len, const uint8_t *p, bool json)
{
	const struct pk_ev_type_info *t = &pk_ev_types[type];
	uint64_t v = t->is_string ? 0 : pk_event_get_le(p, t->size);
	const char *s;
	size_t n, i;

	switch (type) {
	case PK_EVT_S8: put_f(o, "%d", (int8_t)v); break;
	case PK_EVT_S16: put_f(o, "%d", (int16_t)v); break;
	case PK_EVT_S32: put_f(o, "%d", (int32_t)v); break;
	case PK_EVT_S64: put_f(o, "%" PRId64, (int64_t)v); break;
	case PK_EVT_X8:
	case PK_EVT_X16:
	case PK_EVT_X32:
	case PK_EVT_X64: put_f(o, json ? "%" PRIu64 : "0x%" PRIx64, v); break;
	case PK_EVT_CHAR:
		if (json) {
			pk_sbuf_putc(o, '"');
			put_json_bytes(o, (const char *)p, 1);
			pk_sbuf_putc(o, '"');
		} else {
			/* '%c' of the raw byte, even a NUL. */
			pk_sbuf_putc(o, '\'');
			pk_sbuf_putc(o, (char)v);
			pk_sbuf_putc(o, '\'');
		}
		break;
	case PK_EVT_SYMBOL: put_symbol(o, fmt, v, json); break;
	case PK_EVT_STRING:
	case PK_EVT_USTRING:
	case PK_EVT_SYMSTR:
		s = loc_string(rec, len, p, &n);
		if (!s) {
			pk_sbuf_puts(o, json ? "null" : "(fault)");
			break;
		}
		pk_sbuf_putc(o, '"');
		if (json)
			put_json_bytes(o, s, n);
		else
			for (i = 0; i < n; i++)
				pk_sbuf_putc(o, s[i]);
		pk_sbuf_putc(o, '"');
		break;
	default: /* u8..u64 */ put_f(o, "%" PRIu64, v); break;
	}
}

static void put_symbol(struct pk_sbuf *o, const struct pk_event_fmt *fmt, uint64_t addr, bool json)
{
	char buf[512];
	int n = -1;

	if (fmt && fmt->symbolize)
		n = fmt->symbolize(fmt->ctx, buf, sizeof(buf), (unsigned long)addr);
	if (n < 0)
		n = snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (json) {
		pk_sbuf_putc(o, '"');
		put_json_bytes(o, buf, (size_t)n);
		pk_sbuf_putc(o, '"');
	} else {
		pk_sbuf_puts(o, buf);
	}
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if it is not one. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	size_t need, i;
	uint8_t lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return 0;
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (need >= n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need + 1;
}

static void put_json_bytes(struct pk_sbuf *o, const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0, k, l;

	while (i < n) {
		uint8_t c = s[i];

		switch (c) {
		case '"':
			pk_sbuf_puts(o, "\\\"");
			i++;
			continue;
		case '\\':
			pk_sbuf_puts(o, "\\\\");
			i++;
			continue;
		case '\n':
			pk_sbuf_puts(o, "\\n");
			i++;
			continue;
		case '\r':
			pk_sbuf_puts(o, "\\r");
			i++;
			continue;
		case '\t':
			pk_sbuf_puts(o, "\\t");
			i++;
			continue;
		case '\b':
			pk_sbuf_puts(o, "\\b");
			i++;
			continue;
		case '\f':
			pk_sbuf_puts(o, "\\f");
			i++;
			continue;
		default: break;
		}
		l = c < 0x20 || c == 0x7f ? 0 : utf8_seq(s + i, n - i);
		if (!l) {
			/* A control character, or a byte that is not UTF-8: its Latin-1 reading. */
			put_f(o, "\\u%04x", c);
			i++;
			continue;
		}
		for (k = 0; k < l; k++)
			pk_sbuf_putc(o, (char)s[i + k]);
		i += l;
	}
}

static int format(const struct pk_event_def *def, const void *record, size_t len, char *buf,
		  size_t size, const struct pk_event_fmt *fmt, bool json)
{
	const uint8_t *rec = record;
	struct pk_sbuf o = {buf, size, 0};
	unsigned int i, k, n, esize;

	if (def->kind == '-' || len < def->dyn_offset)
		return -EINVAL;
	for (i = 0; i < def->nargs; i++) {
		const struct pk_event_arg *a = &def->args[i];
		enum pk_ev_type type = (enum pk_ev_type)a->type;
		const uint8_t *p = rec + a->offset;

		if (json) {
			if (i)
				pk_sbuf_putc(&o, ',');
			pk_sbuf_putc(&o, '"');
			put_json_bytes(&o, a->name, pk_ev_strnlen(a->name, sizeof(a->name)));
			pk_sbuf_puts(&o, "\":");
		} else {
			pk_sbuf_putc(&o, ' ');
			pk_sbuf_puts(&o, a->name);
			pk_sbuf_putc(&o, '=');
		}
		if (fmt && (fmt->flags & PK_EVFMT_FAULTS) && !pk_ev_types[type].is_string &&
		    faulted(def, rec, i)) {
			pk_sbuf_puts(&o, json ? "null" : "(fault)");
			continue;
		}
		if (!a->count) {
			put_value(&o, fmt, type, rec, len, p, json);
			continue;
		}
		n = a->count;
		esize = pk_ev_types[type].size;
		pk_sbuf_putc(&o, json ? '[' : '{');
		for (k = 0; k < n; k++, p += esize) {
			if (k)
				pk_sbuf_putc(&o, ',');
			put_value(&o, fmt, type, rec, len, p, json);
		}
		pk_sbuf_putc(&o, json ? ']' : '}');
	}
	return pk_sbuf_finish(&o);
}

int pk_event_format(const struct pk_event_def *def, const void *rec, size_t len, char *buf,
		    size_t size, const struct pk_event_fmt *fmt)
{
	return format(def, rec, len, buf, size, fmt, false);
}

int pk_event_format_json(const struct pk_event_def *def, const void *rec, size_t len, char *buf,
			 size_t size, const struct pk_event_fmt *fmt)
{
	return format(def, rec, len, buf, size, fmt, true);
}

int pk_event_json_escape(const char *s, size_t n, char *buf, size_t size)
{
	struct pk_sbuf o = {buf, size, 0};

	put_json_bytes(&o, s, n);
	return pk_sbuf_finish(&o);
}
