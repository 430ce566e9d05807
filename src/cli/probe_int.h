/* SPDX-License-Identifier: MIT */
/* What the probe_*.c files share: the opened object and a probe point's context. */
#ifndef PK_CLI_PROBE_INT_H
#define PK_CLI_PROBE_INT_H

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <limits.h>
#include <stdarg.h>

#include "cli/probe.h"

struct pk_dbg {
	char path[PATH_MAX];	   /* the object, as a full path (uprobe definitions name it) */
	char debug_path[PATH_MAX]; /* where the DWARF came from */
	char group[64];		   /* perf's default group: "probe_" and the name's stem */
	int fd, dfd;
	Elf *elf, *delf; /* delf: the separate debug file, or NULL */
	Dwarf *dw;
	Dwarf_CFI *cfi_eh, *cfi_dbg; /* .eh_frame of the object, .debug_frame of the DWARF */
};

/* One address that a probe point stands for, with what its variables need. */
struct pk_ppoint {
	Dwarf_Addr addr;
	Dwarf_Die inst; /* the function instance: a subprogram or an inlined copy */
	Dwarf_Die func; /* the concrete subprogram holding addr: the frame base's */
	Dwarf_Die cu;
	const char *name; /* the function's name */
	const char *file; /* its declaration's source file */
	int inlined;
	int line; /* a line probe's absolute line, else 0 */
};

/* Formats into @why (size @n) and returns @err. */
int pk_pp_fail(char *why, size_t n, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The file offset (as uprobe_events takes it) of virtual address @addr. Errors: -ERANGE. */
int pk_dbg_offset(const struct pk_dbg *d, Dwarf_Addr addr, unsigned long *off);

/* @addr of a static variable as uprobe_events' @+OFFSET. Errors: -ERANGE. */
int pk_dbg_static_offset(const struct pk_dbg *d, Dwarf_Addr addr, unsigned long *off);

/* Does source path @full name @want ("main.c", "src/main.c", or the full path)? */
int pk_pp_file_match(const char *full, const char *want);

/* probe_points.c */
typedef int (*pk_ppoint_fn)(void *arg, const struct pk_ppoint *p);
/* Each address @pp stands for; -ENOENT (with @why) when there is none. */
int pk_pp_points(struct pk_dbg *d, const struct pk_pp *pp, pk_ppoint_fn fn, void *arg, char *why,
		 size_t n);
/* Each instance (out of line or inlined) of function @name declared in @file (NULL: any). */
int pk_pp_instances(struct pk_dbg *d, const char *name, const char *file, pk_ppoint_fn fn,
		    void *arg);

/* probe_loc.c */
/*
 * pk_pp_fetch() - @a at @p as "NAME=FETCHARG:TYPE" (perf's naming) into
 * @out. Errors as pk_pp_derive().
 */
int pk_pp_fetch(struct pk_dbg *d, const struct pk_ppoint *p, const struct pk_pp_arg *a, char *out,
		size_t outn, char *why, size_t n);
typedef int (*pk_var_fn)(void *arg, Dwarf_Die *var);
/* The variables (or, @params_only, the parameters) visible at @p, innermost first, once each. */
int pk_pp_vars_at(const struct pk_ppoint *p, int params_only, pk_var_fn fn, void *arg);
/* Is @var's value somewhere at @p (a location covering the address, or a constant)? */
int pk_pp_var_available(const struct pk_ppoint *p, Dwarf_Die *var);
/* @var's type as C writes it ("struct item*", "int"). */
void pk_pp_type_name(Dwarf_Die *var, char *buf, size_t n);

/*
 * Row @i of a line table, if it starts a statement (not an end of sequence)
 * and has a file, an address and a line: 1 with them in *@src, *@a, *@line.
 */
int pk_pp_stmt_row(Dwarf_Lines *lines, size_t i, const char **src, Dwarf_Addr *a, int *line);

#endif
