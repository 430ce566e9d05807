/* SPDX-License-Identifier: MIT */
/*
 * The kernel's hist triggers (Documentation/trace/histogram.rst) on the
 * events probekit trace records, and synthetic events: records go in, the
 * kernel's `hist` file comes out, byte for byte. The semantics follow
 * kernel/trace/trace_events_hist.c (6.18): keys, values, variables, field
 * references and expressions, sort keys, the onmatch/onmax/onchange
 * handlers with their trace() and save() actions.
 */
#ifndef PK_CLI_HIST_H
#define PK_CLI_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "events/events.h"

struct pk_hist;

/* What a hit knows besides its record. */
struct pk_hist_hit {
	uint64_t ts_ns; /* CLOCK_MONOTONIC */
	uint32_t pid;	/* the process */
	uint32_t tid;	/* the thread: the kernel's common_pid */
	uint32_t cpu;
	const char *comm;
	const uint64_t *stack; /* the user stack, when the record carries one */
	unsigned int nstack;
};

/*
 * A synthetic event fired (by an onmatch()/onmax() trace action): its
 * definition and record, for the caller to print as a trace line.
 */
typedef void (*pk_hist_emit_fn)(void *ctx, const struct pk_event_def *def, const void *rec,
				size_t len, const struct pk_hist_hit *hit);

/* For .sym and .sym-offset: %pS of a user address; 0 or -errno as snprintf. */
typedef int (*pk_hist_symbolize_fn)(void *ctx, char *buf, size_t size, unsigned long addr);

/** pk_hist_new() - an empty set of events; NULL without memory. */
struct pk_hist *pk_hist_new(pk_hist_emit_fn emit, void *ctx);

void pk_hist_free(struct pk_hist *h);

/*
 * pk_hist_add_event() - the next probe event (its id is the count of
 * events added before it). @def must outlive @h. 0 or -ENOMEM.
 */
int pk_hist_add_event(struct pk_hist *h, const struct pk_event_def *def);

/*
 * pk_hist_add_synthetic() - a line of the kernel's synthetic_events
 * ("lat u64 lat_us; pid_t pid"), added after every probe event. Errors are
 * said on stderr. Return: 0, -EINVAL, -EEXIST or -ENOMEM.
 */
int pk_hist_add_synthetic(struct pk_hist *h, const char *spec);

/*
 * pk_hist_add_trigger() - "[GROUP/]EVENT: hist:keys=...[ if FILTER]",
 * on an event or synthetic event added before. Errors are said on stderr
 * the way the kernel's error_log says them. Return: 0, -ENOENT (no such
 * event), -EINVAL, -ENOMEM.
 */
int pk_hist_add_trigger(struct pk_hist *h, const char *arg);

/* Whether event @id has a hist trigger (its hits are aggregated, not printed). */
int pk_hist_aggregates(const struct pk_hist *h, unsigned int id);

/* Frames of user stack the hits of event @id need (common_stacktrace keys). */
unsigned int pk_hist_stack_depth(const struct pk_hist *h, unsigned int id);

/* Whether any event has a hist trigger. */
int pk_hist_any(const struct pk_hist *h);

/** pk_hist_record() - one hit of probe event @id, with its record. */
void pk_hist_record(struct pk_hist *h, unsigned int id, const void *rec, size_t len,
		    const struct pk_hist_hit *hit);

/*
 * pk_hist_print() - every event's `hist` file, in the order the events
 * were added; when more than one event has triggers, each file is headed
 * as head(1) heads files: "==> events/GROUP/EVENT/hist <==".
 */
void pk_hist_print(struct pk_hist *h, FILE *f, pk_hist_symbolize_fn sym, void *ctx);

#endif
