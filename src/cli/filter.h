/* SPDX-License-Identifier: MIT */
#ifndef PK_CLI_FILTER_H
#define PK_CLI_FILTER_H

#include <stddef.h>

#include "events/events.h"

struct pk_filter;

/* What a record does not carry but a filter may test. */
struct pk_filter_ctx {
	long long pid;
	const char *comm;
};

/**
 * pk_filter_compile() - compile an ftrace filter expression for one event.
 * @def: the event.
 * @expr: e.g. "a > 10 && (s ~ \"*.so\" || common_pid == 42)".
 * @out: the compiled filter, for pk_filter_match() and pk_filter_free().
 * @errpos: on error, the column of @expr at fault.
 * @errmsg: on error, ftrace's message for it.
 *
 * Return: 0, or -EINVAL (@errpos and @errmsg say why).
 */
int pk_filter_compile(const struct pk_event_def *def, const char *expr, struct pk_filter **out,
		      int *errpos, const char **errmsg);

/**
 * pk_filter_match() - whether a record passes.
 * @f: a compiled filter.
 * @def: its event.
 * @rec: the record (checked: a field outside @len does not match).
 * @len: its length.
 * @ctx: the hit's pid and comm.
 *
 * Return: 1 if the record passes, 0 if not.
 */
int pk_filter_match(const struct pk_filter *f, const struct pk_event_def *def, const void *rec,
		    size_t len, const struct pk_filter_ctx *ctx);

void pk_filter_free(struct pk_filter *f);

#endif
