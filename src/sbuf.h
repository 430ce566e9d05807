/* SPDX-License-Identifier: MIT */
/*
 * A bounded text buffer that keeps counting past its end, as snprintf()
 * does, without calling libc: symbol formatting and event formatting both
 * run inside probe handlers.
 */
#ifndef PK_SBUF_H
#define PK_SBUF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct pk_sbuf {
	char *buf;
	size_t size;
	size_t len;
};

static inline void pk_sbuf_putc(struct pk_sbuf *b, char c)
{
	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

static inline void pk_sbuf_puts(struct pk_sbuf *b, const char *s)
{
	while (*s)
		pk_sbuf_putc(b, *s++);
}

/* NUL-terminate what fits; the full length, as snprintf() returns it. */
static inline int pk_sbuf_finish(struct pk_sbuf *b)
{
	if (b->size)
		b->buf[b->len < b->size ? b->len : b->size - 1] = '\0';
	return b->len > INT_MAX ? INT_MAX : (int)b->len;
}

#endif
