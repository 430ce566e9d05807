/* SPDX-License-Identifier: MIT */
#ifndef PK_CLI_PROBE_CLI_H
#define PK_CLI_PROBE_CLI_H

/*
 * pk_probe_add() - derive perf probe definition @text on @bin (its DWARF
 * from @debug_file if not NULL) and give each resulting kprobe_events line
 * to @add. Says what went wrong on stderr, prefixed by @cmd. Returns 0, the
 * first non-zero @add result, or a pk_pp_derive() error.
 */
int pk_probe_add(const char *cmd, const char *bin, const char *debug_file, const char *text,
		 int (*add)(void *ctx, const char *line), void *ctx);

#endif
