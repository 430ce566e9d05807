// SPDX-License-Identifier: MIT
/*
 * Names as people write them: the qualified name of a C++ (Itanium ABI) or
 * Rust (legacy) mangled symbol, "ns::Class::method" for
 * _ZN2ns5Class6methodEi, "app::add" for _ZN3app3add17h0123456789abcdefE,
 * without parameter types, template arguments or Rust's hash, so that a
 * probe can be placed by that name. Not a full demangler: a name it cannot
 * read (operators, most substitutions) is simply not found that way; the
 * %pS prints these names too, on the trap path: so no libc here.
 */
#include <errno.h>
#include <stddef.h>

#include "sym/sym.h"

static size_t len_of(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* @s starts with the @n bytes of @prefix (none of them NUL). */
static int starts(const char *s, const char *prefix, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != prefix[i])
			return 0;
	return 1;
}

struct out {
	char *buf;
	size_t size, len;
	int err;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->size) {
		o->err = -ENOSPC;
		return;
	}
	for (size_t i = 0; i < n; i++)
		o->buf[o->len + i] = s[i];
	o->len += n;
	o->buf[o->len] = 0;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Rust's legacy escapes in an identifier: $LT$ < , $GT$ > , $u20$ ' ', ".." "::" and so on. */
static void put_ident(struct out *o, const char *s, size_t n)
{
	static const struct {
		const char *esc, *text;
	} esc[] = {{"$SP$", "@"},  {"$BP$", "*"},  {"$RF$", "&"},   {"$LT$", "<"},  {"$GT$", ">"},
		   {"$LP$", "("},  {"$RP$", ")"},  {"$C$", ","},    {"$u7e$", "~"}, {"$u20$", " "},
		   {"$u27$", "'"}, {"$u5b$", "["}, {"$u5d$", "]"},  {"$u7b$", "{"}, {"$u7d$", "}"},
		   {"$u3b$", ";"}, {"$u2b$", "+"}, {"$u22$", "\""}, {"$u21$", "!"}};
	size_t i = 0, k;

	if (n > 2 && s[0] == '_' && s[1] == '$')
		i = 1;
	while (i < n) {
		if (s[i] == '$') {
			for (k = 0; k < sizeof(esc) / sizeof(esc[0]); k++) {
				size_t l = len_of(esc[k].esc);

				if (i + l <= n && starts(s + i, esc[k].esc, l)) {
					put(o, esc[k].text, len_of(esc[k].text));
					i += l;
					break;
				}
			}
			if (k < sizeof(esc) / sizeof(esc[0]))
				continue;
		}
		if (s[i] == '.' && i + 1 < n && s[i + 1] == '.') {
			put(o, "::", 2);
			i += 2;
			continue;
		}
		put(o, s + i, 1);
		i++;
	}
}

/* <number><identifier>: its length and start, or 0. */
static size_t source_name(const char **p, const char **id)
{
	size_t n = 0;

	if (**p < '1' || **p > '9')
		return 0;
	while (**p >= '0' && **p <= '9')
		n = n * 10 + (size_t)(*(*p)++ - '0');
	for (size_t i = 0; i < n; i++)
		if (!(*p)[i])
			return 0;
	*id = *p;
	*p += n;
	return n;
}

/* Past a balanced I...E (template arguments), counting the other E-closed forms inside. */
static int skip_template_args(const char **p)
{
	int depth = 0;

	do {
		switch (**p) {
		case 0: return -EINVAL;
		case 'I':
		case 'N':
		case 'L':
		case 'X':
		case 'J': depth++; break;
		case 'E': depth--; break;
		default:
			/* Digits start a name, whose letters must not count. */
			if (**p >= '1' && **p <= '9') {
				const char *id;

				if (!source_name(p, &id))
					return -EINVAL;
				continue;
			}
		}
		(*p)++;
	} while (depth > 0);
	return 0;
}

int pk_demangle_name(const char *m, char *buf, size_t size)
{
	struct out o = {buf, size, 0, 0};
	const char *p = m, *id = NULL, *last = NULL;
	size_t n, last_n = 0;
	int nested, parts = 0;

	if (!m || !buf || !size || !starts(m, "_Z", 2))
		return -EINVAL;
	buf[0] = 0;
	p += 2;
	if (*p == 'L')
		p++;
	nested = *p == 'N';
	if (nested) {
		p++;
		while (*p == 'r' || *p == 'V' || *p == 'K' || *p == 'R' || *p == 'O')
			p++;
	}
	for (;;) {
		if (nested && *p == 'E')
			break;
		if (starts(p, "St", 2)) {
			put(&o, "std", 3);
			parts++;
			p += 2;
			continue;
		}
		if (*p == 'I') {
			if (skip_template_args(&p))
				return -EINVAL;
			continue;
		}
		if (*p == 'C' && p[1] >= '1' && p[1] <= '5' && last) {
			put(&o, "::", 2);
			put_ident(&o, last, last_n);
			p += 2;
			continue;
		}
		if (*p == 'D' && p[1] >= '0' && p[1] <= '5' && last) {
			put(&o, "::~", 3);
			put_ident(&o, last, last_n);
			p += 2;
			continue;
		}
		n = source_name(&p, &id);
		if (!n)
			return -EINVAL;
		/* Rust's last component: h and 16 hex digits, the crate hash. */
		if (nested && *p == 'E' && n == 17 && id[0] == 'h') {
			size_t k;

			for (k = 1; k < 17 && is_hex(id[k]); k++)
				;
			if (k == 17)
				break;
		}
		if (parts++)
			put(&o, "::", 2);
		put_ident(&o, id, n);
		last = id;
		last_n = n;
		if (!nested)
			break;
	}
	return o.err ? o.err : parts ? 0 : -EINVAL;
}
