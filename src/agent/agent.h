/* SPDX-License-Identifier: MIT */
/* Inside the agent: sessions (agent.c) and the attach entry (attach.c). */
#ifndef PK_AGENT_AGENT_H
#define PK_AGENT_AGENT_H

#include <stdio.h>

struct agent_session;

/* Set while the agent itself runs code the program's probes could catch. */
extern __thread int pk_agent_busy __attribute__((tls_model("initial-exec")));

/*
 * Map the control block and ring a tracer handed over (both fds are
 * consumed), arm its definitions and publish the result in the control
 * block (@follower: a program exec'd by the traced one keeps its results to
 * itself). NULL when the control block is unusable (nothing to report in).
 */
struct agent_session *pk_agent_session_start(int ctl_fd, int ring_fd, int follower);

/* See agent.c. @s may be NULL: only release the engine if no session is left. */
int pk_agent_session_end(struct agent_session *s, int wait_ms);

/* Every function of every loaded object, probeable or why not, one a line. */
void pk_agent_list(FILE *out);

/* probekit list before main() (PK_ENV_LIST_FD): the list to that fd, then exit. */
void pk_agent_list_functions(void);

struct dl_phdr_info;
/* A loaded object's path (@buf holds the executable's). */
const char *pk_agent_object_path(const struct dl_phdr_info *info, char *buf, size_t size);

/* The entry point `probekit trace -p` calls in the process (exported). */
int pk_agent_attach(const char *sockname);

/* Sessions not ended yet (attach.c: whether a detaching tracer is the last). */
unsigned int pk_agent_live_sessions(void);

/* Join the session threads that have ended and unmap their stacks. */
void pk_agent_reap_threads(void);

#endif
