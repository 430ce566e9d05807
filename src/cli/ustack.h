/* SPDX-License-Identifier: MIT */
/*
 * User stacks printed as the kernel's userstacktrace prints them with
 * sym-userobj: " => /path/of/object[+0xOFFSET]" per frame, the offset from
 * the start of the mapping that holds it, or " =>  <%016lx>" for an address
 * of no file (or of a process whose mappings are gone).
 */
#ifndef PK_CLI_USTACK_H
#define PK_CLI_USTACK_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct pk_ustack;

/* NULL without memory. */
struct pk_ustack *pk_ustack_new(void);
void pk_ustack_free(struct pk_ustack *u);

/*
 * pk_ustack_preload() - read @pid's mappings now, while it runs: a short
 * program is often gone before its last stacks are printed.
 */
void pk_ustack_preload(struct pk_ustack *u, pid_t pid);

/*
 * pk_ustack_print() - @n frames of a stack of process @pid, one line each.
 * The process's mappings are read from /proc once and again when a frame
 * is in none of them (a library loaded since).
 */
void pk_ustack_print(struct pk_ustack *u, FILE *f, pid_t pid, const uint64_t *frames,
		     unsigned int n);

#endif
