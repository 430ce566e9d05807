/* SPDX-License-Identifier: MIT */
#ifndef PK_CLI_H
#define PK_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <sys/types.h>

#ifndef PK_VERSION
#define PK_VERSION "0.1.0"
#endif

int cmd_trace(int argc, char **argv);
int cmd_list(int argc, char **argv);
/* The same commands on the kernel's tracefs probes: "--kernel" anywhere before "--". */
int cmd_trace_kernel(int argc, char **argv);
int cmd_list_kernel(int argc, char **argv);
/* 1 if "--kernel" is among @argv before a "--". */
int pk_wants_kernel(int argc, char **argv);
/*
 * The lines of @funcs (available_filter_functions: "func" or "func [mod]")
 * that match @glob (NULL: all) and that the kprobe @blacklist (its text,
 * "0xSTART-0xEND\tNAME" lines; NULL: none) holds neither by name nor by an
 * address range, the addresses taken from @kallsyms (/proc/kallsyms' text;
 * NULL: names only), printed on @out. The texts are cut up. Returns how many.
 */
int pk_klist_print(char *funcs, char *blacklist, char *kallsyms, const char *glob, FILE *out);
/*
 * getopt_long over the words before "--", options and other words mixed:
 * returns an option's letter, 1 for any other word (a definition, in
 * optarg; "-:EVENT" too), '?' for a bad option, and -1 at the end, with
 * *cmd pointing after a "--" (or NULL). @optstring without '+' or '-'.
 */
int pk_cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
		  char ***cmd);
/*
 * Start @cmd (execvp) in a child; with @gate, the child waits before exec
 * until pk_cmd_open_gate(@gate). The child's pid, or -1.
 */
pid_t pk_cmd_start(char **cmd, int *gate);
void pk_cmd_open_gate(int *gate);
/* Has @child exited? It is left a zombie, so that /proc still names it. */
int pk_cmd_exited(pid_t child);
/*
 * hints.c, for a definition that found nothing in process @pid: the names
 * nearest to @symbol (in @object, or in every object when ""), or that
 * the objects have no symbols; the objects loaded instead of @object.
 */
void pk_cli_hint_symbol(pid_t pid, const char *object, const char *symbol);
void pk_cli_hint_object(pid_t pid, const char *object);
/* Takes "--kernel" out of @argv (up to a "--"); returns the new argc. */
int pk_drop_kernel_flag(int argc, char **argv);

/* The agent library: next to the command (build tree), else where make install put it. */
void pk_agent_path(char *buf, size_t size);
/* 1 if the ELF file at @path has a PT_INTERP, 0 if not, -ENOEXEC or -errno. */
int pk_elf_has_interp(const char *path);
/* 0 if the agent can be preloaded into @cmd, else says why on stderr and returns -errno. */
int pk_check_preloadable(const char *cmd);

#endif
