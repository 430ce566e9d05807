/* SPDX-License-Identifier: MIT */
/*
 * Probes by source: perf probe's language ("callee a p->name:string",
 * "callee%return $retval", "main.c:9 sum", "callee;*printf*") compiled with
 * an object's DWARF into lines of the kprobe_events language
 * ("p:probe_main/callee /path/main:0x1139 a=%di:s32"), which the tracer, or
 * the kernel's uprobe_events, then runs unchanged.
 *
 * The parts, one job per file:
 *   probe_spec.c      the perf probe definition's text, parsed
 *   probe_debuginfo.c finding and opening the DWARF (the file, build-id,
 *                     .gnu_debuglink, an explicit file); addresses to offsets
 *   probe_points.c    the addresses a probe point stands for (every inlined
 *                     instance, every line-table row of a line)
 *   probe_loc.c       a variable's DWARF location at an address, as a fetch
 *                     argument, with members, indexes and types
 *   probe_derive.c    a definition's probe points and arguments put together
 *   probe_show.c      -L, -V and -F
 *
 * Errors are negative errnos, and a sentence in a caller's buffer saying
 * what was not found or cannot be expressed (the command prints it).
 */
#ifndef PK_CLI_PROBE_H
#define PK_CLI_PROBE_H

#include <stdio.h>

#define PK_PP_MAX_ARGS 64
#define PK_PP_WHY      512

/* One argument: "[NAME=]EXPR[:TYPE]". */
struct pk_pp_arg {
	char *name; /* NAME=, or NULL */
	char *expr; /* the expression as written, without NAME= and :TYPE */
	char *type; /* TYPE, or NULL */
	char *text; /* as written, for messages */
};

/* One perf probe definition. */
struct pk_pp {
	char *group, *event;  /* NULL: made as perf makes them */
	char *func;	      /* FUNC, or NULL for SRC:ALN and SRC;PTN */
	char *file;	      /* @SRC or SRC, or NULL */
	int line;	      /* :RLN (relative to FUNC) or :ALN (absolute); -1 none */
	unsigned long offset; /* +OFFS */
	int has_offset;
	int retprobe; /* %return */
	char *lazy;   /* ;PTN */
	char *point;  /* the probe point as written, for "(on ...)" */
	struct pk_pp_arg args[PK_PP_MAX_ARGS];
	int nargs;
};

/* A "-L" range: FUNC[@SRC][:START[-END|+COUNT]] or SRC[:START[-END|+COUNT]]. */
struct pk_pp_range {
	char *func, *file;
	int start, end; /* end -1: to the end */
};

struct pk_dbg;

/* Emitted for each derived definition: the kprobe_events line and perf's "-l" description. */
typedef int (*pk_pp_emit_fn)(void *arg, const char *def, const char *desc);

/*
 * pk_pp_parse() - @text into @pp (freed with pk_pp_free()).
 * Errors: -EINVAL the text is not perf probe's syntax (@why says where),
 * -E2BIG too many arguments, -ENOMEM.
 */
int pk_pp_parse(const char *text, struct pk_pp *pp, char *why, size_t n);
void pk_pp_free(struct pk_pp *pp);
/* pk_pp_parse_range() - "-L"'s argument. Errors: -EINVAL, -ENOMEM. */
int pk_pp_parse_range(const char *text, struct pk_pp_range *r, char *why, size_t n);
void pk_pp_range_free(struct pk_pp_range *r);

/*
 * pk_dbg_open() - @bin's symbols and DWARF, the DWARF taken from
 * @debug_file if given, else found as gdb finds it.
 * Errors: -ENOENT @bin (or @debug_file) cannot be read, -ENOEXEC not an
 * ELF file, -ENODATA no debug information anywhere (@why lists where it
 * looked), -ENOMEM.
 */
int pk_dbg_open(const char *bin, const char *debug_file, struct pk_dbg **out, char *why, size_t n);
void pk_dbg_close(struct pk_dbg *d);

/*
 * pk_pp_derive() - the kprobe_events definitions for @pp on @d, each
 * handed to @emit (which stops the walk by returning non-zero: that is
 * returned). Errors: -ENOENT no such function, line or variable,
 * -EOPNOTSUPP a variable whose location or type a fetch argument cannot
 * express (optimized out, computed, a piece, a float...), -EINVAL an
 * argument that does not fit its variable's type, -ENOMEM.
 */
int pk_pp_derive(struct pk_dbg *d, const struct pk_pp *pp, pk_pp_emit_fn emit, void *arg, char *why,
		 size_t n);

/* probe_show.c: -L, -V, -F on @out. Errors as pk_pp_derive(). */
int pk_pp_show_lines(struct pk_dbg *d, const struct pk_pp_range *r, FILE *out, char *why, size_t n);
int pk_pp_show_vars(struct pk_dbg *d, const struct pk_pp *pp, FILE *out, char *why, size_t n);
int pk_pp_show_funcs(struct pk_dbg *d, const char *filter, FILE *out);

#endif
