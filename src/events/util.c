// SPDX-License-Identifier: MIT
/*
 * The kernel's character classes, number parsing and name rules, rewritten
 * so that a definition is accepted or rejected exactly where the kernel
 * accepts or rejects it; and the type table.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "events/ev_int.h"

const struct pk_ev_type_info pk_ev_types[PK_EVT_NR] = {
    [PK_EVT_U8] = {"u8", 1, false, false},	 [PK_EVT_U16] = {"u16", 2, false, false},
    [PK_EVT_U32] = {"u32", 4, false, false},	 [PK_EVT_U64] = {"u64", 8, false, false},
    [PK_EVT_S8] = {"s8", 1, true, false},	 [PK_EVT_S16] = {"s16", 2, true, false},
    [PK_EVT_S32] = {"s32", 4, true, false},	 [PK_EVT_S64] = {"s64", 8, true, false},
    [PK_EVT_X8] = {"x8", 1, false, false},	 [PK_EVT_X16] = {"x16", 2, false, false},
    [PK_EVT_X32] = {"x32", 4, false, false},	 [PK_EVT_X64] = {"x64", 8, false, false},
    [PK_EVT_CHAR] = {"char", 1, false, false},	 [PK_EVT_SYMBOL] = {"symbol", 8, false, false},
    [PK_EVT_STRING] = {"string", 4, true, true}, [PK_EVT_USTRING] = {"ustring", 4, true, true},
    [PK_EVT_SYMSTR] = {"symstr", 4, true, true},
};

const char *pk_event_type_name(enum pk_ev_type type)
{
	return (unsigned int)type < PK_EVT_NR ? pk_ev_types[type].name : "?";
}

bool pk_ev_isspace(int c)
{
	c &= 0xff;
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

bool pk_ev_isdigit(int c)
{
	c &= 0xff;
	return c >= '0' && c <= '9';
}

bool pk_ev_isxdigit(int c)
{
	c &= 0xff;
	return pk_ev_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool pk_ev_isalpha(int c)
{
	c &= 0xff;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	/* Latin-1 letters; 0xd7 and 0xf7 are the multiplication and division signs. */
	return c >= 0xc0 && c != 0xd7 && c != 0xf7;
}

bool pk_ev_isalnum(int c)
{
	return pk_ev_isalpha(c) || pk_ev_isdigit(c);
}

static const char *fixup_radix(const char *s, unsigned int *base)
{
	if (*base == 0) {
		if (s[0] == '0') {
			if ((s[1] | 0x20) == 'x' && pk_ev_isxdigit(s[2]))
				*base = 16;
			else
				*base = 8;
		} else {
			*base = 10;
		}
	}
	if (*base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	return s;
}

/* Digits consumed; *overflow set if the value did not fit (digits still consumed). */
static size_t parse_digits(const char *s, unsigned int base, unsigned long long *res,
			   bool *overflow)
{
	unsigned long long v = 0;
	size_t n = 0;

	*overflow = false;
	for (;; n++) {
		unsigned int c = (unsigned char)s[n], lc = c | 0x20, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			d = lc - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (ULLONG_MAX - d) / base)
			*overflow = true;
		v = v * base + d;
	}
	*res = v;
	return n;
}

static int kstrtoull_nosign(const char *s, unsigned int base, unsigned long long *res)
{
	unsigned long long v;
	bool overflow;
	size_t n;

	s = fixup_radix(s, &base);
	n = parse_digits(s, base, &v, &overflow);
	if (overflow)
		return -ERANGE;
	if (!n)
		return -EINVAL;
	s += n;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = v;
	return 0;
}

int pk_ev_kstrtoull(const char *s, unsigned int base, unsigned long long *res)
{
	if (s[0] == '+')
		s++;
	return kstrtoull_nosign(s, base, res);
}

int pk_ev_kstrtoul(const char *s, unsigned int base, unsigned long *res)
{
	unsigned long long v;
	int ret = pk_ev_kstrtoull(s, base, &v);

	if (!ret)
		*res = v;
	return ret;
}

int pk_ev_kstrtol(const char *s, unsigned int base, long *res)
{
	unsigned long long v;
	int ret;

	if (s[0] == '-') {
		ret = kstrtoull_nosign(s + 1, base, &v);
		if (ret)
			return ret;
		if (v > (unsigned long long)LLONG_MAX + 1)
			return -ERANGE;
		*res = (long)(0 - v);
		return 0;
	}
	ret = pk_ev_kstrtoull(s, base, &v);
	if (ret)
		return ret;
	if (v > LLONG_MAX)
		return -ERANGE;
	*res = (long)v;
	return 0;
}

int pk_ev_kstrtouint(const char *s, unsigned int base, unsigned int *res)
{
	unsigned long long v;
	int ret = pk_ev_kstrtoull(s, base, &v);

	if (ret)
		return ret;
	if (v > UINT_MAX)
		return -ERANGE;
	*res = (unsigned int)v;
	return 0;
}

unsigned long pk_ev_simple_strtoul(const char *s, const char **end, unsigned int base)
{
	unsigned long long v;
	bool overflow;

	s = fixup_radix(s, &base);
	s += parse_digits(s, base, &v, &overflow);
	*end = s;
	return v;
}

bool pk_ev_good_name(const char *name, bool system)
{
	if (!pk_ev_isalpha(*name) && *name != '_' && !(system && *name == '-'))
		return false;
	while (*++name) {
		if (!pk_ev_isalnum(*name) && *name != '_' && !(system && *name == '-'))
			return false;
	}
	return true;
}

size_t pk_ev_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

unsigned int pk_ev_pool_add(struct pk_event_def *def, const char *s, size_t len)
{
	unsigned int off = def->pool_used;
	size_t i;

	if (len >= PK_EV_POOL_SIZE - off)
		return 0;
	for (i = 0; i < len; i++)
		def->pool[off + i] = s[i];
	def->pool[off + len] = '\0';
	def->pool_used = (uint16_t)(off + len + 1);
	return off;
}

int pk_ev_split(char *line, char **argv, int max)
{
	int argc = 0;

	for (;;) {
		while (*line && pk_ev_isspace(*line))
			line++;
		if (!*line || argc == max)
			return argc;
		argv[argc++] = line;
		while (*line && !pk_ev_isspace(*line))
			line++;
		if (*line)
			*line++ = '\0';
	}
}

size_t pk_event_pack(struct pk_event_def *def)
{
	size_t at = offsetof(struct pk_event_def, args) + (size_t)def->nargs * sizeof(def->args[0]);

	memmove((char *)def + at, (char *)def + def->pool_at, def->pool_used);
	def->pool_at = (uint16_t)at;
	return pk_event_size(def);
}
