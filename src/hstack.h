/* SPDX-License-Identifier: MIT */
/* Shared by C and the arch's assembly: see struct pk_thread's hstack. */
#ifndef PK_HSTACK_H
#define PK_HSTACK_H

/* Handlers, their callees, and a program's signal handler that interrupts one. */
#define PK_HSTACK_SIZE (128 * 1024)

#endif /* PK_HSTACK_H */
