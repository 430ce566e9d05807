/* SPDX-License-Identifier: MIT */
/*
 * The kernel's trace_pipe lines, for probekit trace --kernel: the header
 * of a line ("COMM-TID [CPU] FLAGS SEC.USEC: EVENT: (PROBE) ARGS"), and the
 * arguments turned into the JSON members the user-space tracer prints,
 * each value read with its print format from the event's format file.
 */
#ifndef PK_CLI_KLINE_H
#define PK_CLI_KLINE_H

#include <stddef.h>

/* One argument of an event: its name and its piece of the print format ("%d", "{%d,%d}"). */
struct pk_kfield {
	char *name;
	char *fmt;
};

/* An event's arguments, in order, from its format file. */
struct pk_kformat {
	struct pk_kfield *fields;
	unsigned int n;
};

/**
 * pk_kformat_parse() - the arguments of a probe event from its format file.
 * @text: the format file's text (the "field:" lines and the "print fmt:").
 * @f: filled in; free with pk_kformat_free(). The common_* and __probe_*
 *     fields are not arguments and are left out.
 *
 * Return: 0, or -ENOMEM (@f then holds what was read).
 */
int pk_kformat_parse(const char *text, struct pk_kformat *f);

/** pk_kformat_free() - what pk_kformat_parse() allocated; @f is left empty. */
void pk_kformat_free(struct pk_kformat *f);

/* A trace_pipe line, in pieces that point into it. */
struct pk_kline {
	const char *comm; /* "<...>" when the kernel had no name for the task */
	size_t comm_len;
	unsigned int tid;
	int tgid; /* -1: not shown (the record-tgid option is off) or unknown */
	unsigned int cpu;
	const char *flags;
	size_t flags_len;
	unsigned long long sec;
	unsigned int usec;
	const char *event;
	size_t event_len;
	const char *probe; /* inside the parentheses, "" for none */
	size_t probe_len;
	const char *args; /* " a=1 b=2" up to the end of the line */
};

/**
 * pk_kline_parse() - split a trace_pipe line.
 * @s: the line, without its newline (it may hold NUL bytes: a char 0).
 * @len: its length.
 * @k: filled in.
 *
 * The task name may hold spaces and dashes; the line is read from the
 * first "-TID" after which the rest has the shape of a header.
 * Return: 0, or -EINVAL for a line that is not an event ("CPU:1 [LOST 3
 * EVENTS]").
 */
int pk_kline_parse(const char *s, size_t len, struct pk_kline *k);

/**
 * pk_kline_json_args() - the arguments of a parsed line as JSON members.
 * @k: the line.
 * @end: the end of the line.
 * @f: the event's arguments.
 * @buf: output: "name":value members separated by commas, as
 *       pk_event_format_json() writes them: numbers (hexadecimal ones in
 *       decimal), strings and chars as strings, a string the kernel could
 *       not read ((fault)) as null, arrays as arrays, anything else (%pS)
 *       as a string.
 * @size: its size, as snprintf().
 *
 * A value runs to the next argument's " name=": for a string, the first
 * one after a closing quote.
 * Return: the length of the whole text, as snprintf().
 */
int pk_kline_json_args(const struct pk_kline *k, const char *end, const struct pk_kformat *f,
		       char *buf, size_t size);

/**
 * pk_kline_flags_wrapped() - whether the flags show a wrapped context word.
 * @k: a parsed line.
 *
 * trace_event_buffer_reserve() takes one off the preempt count for the
 * tracepoint that normally calls it (tracing_gen_ctx_dec()); a uprobe
 * handler runs preemptible with a count of 0, so the word wraps to all
 * ones and every flag shows, preempt depth and migrate-disable both 'f'.
 * Return: 1 if both of those columns are 'f', else 0.
 */
int pk_kline_flags_wrapped(const struct pk_kline *k);

#endif
