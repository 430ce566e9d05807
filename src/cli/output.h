/* SPDX-License-Identifier: MIT */
/*
 * What both tracers print the same way, whichever backend recorded the
 * events: an event as a JSON object, and the per-event profile at exit.
 */
#ifndef PK_CLI_OUTPUT_H
#define PK_CLI_OUTPUT_H

#include <signal.h>
#include <stdio.h>

/* One event for --format json. */
struct pk_out_event {
	const char *task; /* the thread's comm */
	unsigned int pid; /* the process (thread group) */
	unsigned int tid;
	unsigned int cpu;
	unsigned long long sec; /* the trace clock's seconds */
	unsigned int usec;	/* and microseconds */
	const char *group;
	const char *event;
	const char *probe; /* the address part of the text line, without parentheses */
	const char *args;  /* "name":value members, already JSON, without braces */
};

/**
 * pk_out_json_event() - print @e as one line of JSON:
 * {"task":..,"pid":..,"tid":..,"cpu":..,"timestamp":S.UUUUUU,"group":..,
 *  "event":..,"probe":..,"args":{..}}
 * @f: where.
 * @e: the event; its strings are escaped as pk_event_json_escape() does.
 */
void pk_out_json_event(FILE *f, const struct pk_out_event *e);

/* A count the backend cannot tell: printed as "-". */
#define PK_OUT_UNKNOWN (-1LL)

/** pk_out_profile_head() - the profile table's header line, on @f. */
void pk_out_profile_head(FILE *f);

/**
 * pk_out_profile_row() - one event's line of the profile table.
 * @f: where.
 * @name: "GROUP/EVENT", or a label for a summary line.
 * @hits: times the probe was hit.
 * @missed: hits that recorded nothing (a probe hit inside a handler, no
 *          free return instance).
 * @lost: events recorded but dropped because the buffer was full.
 * @filtered: events a --filter kept from the output.
 *
 * Each count may be PK_OUT_UNKNOWN.
 */
void pk_out_profile_row(FILE *f, const char *name, long long hits, long long missed, long long lost,
			long long filtered);

/**
 * pk_cli_read_defs() - feed each definition line of @path ("-": stdin) to
 * @add: blank lines and '#' comments skipped, surrounding blanks trimmed.
 * Return: 0, the first non-zero @add returned, or -errno (said on stderr).
 */
int pk_cli_read_defs(const char *path, int (*add)(void *ctx, const char *line), void *ctx);

/*
 * Whether a deletion "-:[DGROUP/]DEVENT" (@dgroup, @devent as parsed; empty
 * when not given) removes the event @group/@event. As the kernel's
 * dyn_event_release(): without a group, the event of that name in any group.
 */
int pk_cli_deletes(const char *dgroup, const char *devent, const char *group, const char *event);

/* A deletion that removed nothing: -ENOENT, as kprobe_events answers, said on stderr. */
int pk_cli_no_such_event(const char *line);

/* Set by SIGINT and SIGTERM (and SIGHUP if asked) once pk_cli_catch_signals() ran. */
extern volatile sig_atomic_t pk_cli_stop;

/*
 * SIGINT, SIGTERM (and SIGHUP with @hup) set pk_cli_stop; SIGPIPE is
 * ignored; SIGCHLD does nothing but interrupt a wait, so that a command's
 * exit is seen at once.
 */
void pk_cli_catch_signals(int hup);

/* --format: 0 text, 1 json, or -EINVAL (said on stderr). */
int pk_cli_parse_format(const char *arg);

/* -d: a number of seconds > 0, or -1 (said on stderr). */
double pk_cli_parse_seconds(const char *arg);

/* CLOCK_MONOTONIC in seconds. */
double pk_now_s(void);

#endif
