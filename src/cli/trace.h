/* SPDX-License-Identifier: MIT */
/*
 * probekit trace's state, shared by the command (cmd_trace.c: definitions,
 * records, profile) and the running of the program (trace_run.c).
 */
#ifndef PK_CLI_TRACE_H
#define PK_CLI_TRACE_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "agent/proto.h"
#include "cli/attach.h"
#include "cli/clock.h"
#include "cli/filter.h"
#include "cli/hist.h"
#include "cli/ustack.h"
#include "events/events.h"
#include "ring/ring.h"
#include "sym/sym.h"

struct trace_opts {
	const char *out;
	int json;
	double duration;
	size_t buffer_size;
	pid_t pid;	    /* -p: attach to this process instead of starting one */
	int first_only;	    /* programs the command execs are not traced */
	int no_optimize;    /* probes stay int3 */
	unsigned int stack; /* --stack: frames of user stack per event, 0 for none */
	int ret_insn;	    /* return probes at the functions' exits, no return-address swap */
};

struct trace {
	struct trace_opts o;
	FILE *out;
	struct pk_event_def **defs;   /* packed, each its own size (pk_event_pack()) */
	struct pk_event_def *scratch; /* where a line is parsed: room for everything it may hold */
	char **lines;
	struct pk_filter **filters; /* per event, NULL: everything passes */
	const char **filter_args;
	unsigned int nfilter_args;
	unsigned long long *filtered;
	unsigned int ndefs;
	unsigned int cap; /* room in defs, lines, filters, filtered */
	char **wild;	  /* definitions with a wildcard, expanded once the command is known */
	unsigned int nwild;
	int expanding;
	struct pk_agent_ctl *ctl;
	size_t ctl_size;
	int ctl_fd;
	struct pk_ring ring;
	pid_t child;
	int child_done;		  /* the command has exited (and was waited for) */
	struct pk_attach att;	  /* -p */
	struct pk_sym_proc *syms; /* the program's symbols, for the symbol type */
	int early_status;	  /* the program's status if it ended before the agent answered */
	char *line_buf;
	size_t line_cap;
	struct pk_cycle_clock clock; /* records' timestamps to CLOCK_MONOTONIC */
	struct pk_hist *hist;	     /* --trigger, --synthetic */
	struct pk_ustack *ustack;    /* --stack: the processes' mappings */
	unsigned int *stack_ev;	     /* per event: frames its 'stacktrace' trigger asks */
	char **trig_args;	     /* --trigger, and -e lines "EVENT: hist:..." */
	unsigned int ntrig_args;
	char **synth_args;
	unsigned int nsynth_args;
};

/* Set by SIGUSR1: print the histograms so far. */
extern volatile sig_atomic_t pk_trace_dump;

/* cmd_trace.c: every event's hist file, on t->out. */
void pk_trace_print_hist(struct trace *t);

/* wildcard.c: does @d's symbol hold a glob ('*', '?', '[')? */
int pk_cli_is_wildcard(const struct pk_event_def *d);
/*
 * One definition per function of @d's object (@exe: the traced program's
 * file, for a symbol without object) whose name matches the glob, each
 * given to @add, named after its function. 0, or -errno (said on stderr).
 */
int pk_cli_expand_wildcard(struct trace *t, const char *line, const struct pk_event_def *d,
			   const char *exe, int (*add)(struct trace *, const char *));

/* pk_ring_cb: print one record. */
int pk_trace_on_record(unsigned int id, const void *data, size_t len, void *arg);

/* trace_run.c */
int pk_trace_launch(struct trace *t, char **cmd);
int pk_trace_stream(struct trace *t, int *status);
void pk_trace_stop_child(struct trace *t, int *status);
int pk_trace_attach(struct trace *t);
int pk_trace_detach(struct trace *t);

#endif
