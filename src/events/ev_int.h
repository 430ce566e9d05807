/* SPDX-License-Identifier: MIT */
/* Shared between the parts of the events library; not an interface. */
#ifndef PK_EV_INT_H
#define PK_EV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/events.h"

struct pk_ev_type_info {
	const char *name;
	uint8_t size; /* bytes of one element in the record */
	bool is_signed;
	bool is_string; /* a __data_loc field */
};

extern const struct pk_ev_type_info pk_ev_types[PK_EVT_NR];

/*
 * The kernel's <linux/ctype.h>: Latin-1, so that names and numbers are
 * accepted exactly where the kernel accepts them (0xa0 is a space, 0xc0-0xff
 * mostly letters).
 */
bool pk_ev_isspace(int c);
bool pk_ev_isdigit(int c);
bool pk_ev_isxdigit(int c);
bool pk_ev_isalpha(int c);
bool pk_ev_isalnum(int c);

/* The kernel's kstrto*() and simple_strtoul(): same bases, signs and errors. */
int pk_ev_kstrtoull(const char *s, unsigned int base, unsigned long long *res);
int pk_ev_kstrtoul(const char *s, unsigned int base, unsigned long *res);
int pk_ev_kstrtol(const char *s, unsigned int base, long *res);
int pk_ev_kstrtouint(const char *s, unsigned int base, unsigned int *res);
unsigned long pk_ev_simple_strtoul(const char *s, const char **end, unsigned int base);

/* is_good_name(), and is_good_system_name() (which also allows '-'). */
bool pk_ev_good_name(const char *name, bool system);

/*
 * Where the caret goes: word @word of the split line, @offset within it.
 * Returns the negated errno of @cause.
 */
struct pk_ev_log {
	struct pk_event_error *err;
	const char *const *argv;
	int argc;
	unsigned int word;
	const char *subsystem;
};

int pk_ev_log_err(struct pk_ev_log *log, int offset, enum pk_ev_err cause);

/* Split @line into @argv at white space, in place; returns the count. */
int pk_ev_split(char *line, char **argv, int max);

/* Parse and compile one fetch argument (word @log->word) into def->args[i]. */
struct pk_ev_argctx {
	struct pk_event_def *def;
	struct pk_ev_log *log;
	unsigned int flags; /* PK_EVF_* of the definition */
	int offset;	    /* the kernel's ctx->offset: column in the word */
};

int pk_ev_parse_arg(struct pk_ev_argctx *ctx, unsigned int i, const char *word);

/* Copy @s into the pool; returns its offset, or 0 if the pool is full. */
unsigned int pk_ev_pool_add(struct pk_event_def *def, const char *s, size_t len);

/* Bounded string helpers that never call libc (the fetch path uses them too). */
size_t pk_ev_strnlen(const char *s, size_t max);

#endif
