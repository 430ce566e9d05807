/* SPDX-License-Identifier: MIT */
/*
 * What `probekit trace` and the in-process agent share: a control block in a
 * memfd (the compiled definitions going in, per-event status and counters
 * coming out) and the header of every record the agent writes into the
 * ring. Both sides are built from this one header; the agent still treats
 * everything it reads as untrusted (pk_event_validate()).
 */
#ifndef PK_AGENT_PROTO_H
#define PK_AGENT_PROTO_H

#include <stdint.h>

#include "events/events.h"

#define PK_AGENT_MAGIC	 0x746b7062u /* "bpkt" */
#define PK_AGENT_VERSION 3
/* The ring's event id is 16 bits. */
#define PK_AGENT_MAX_EVENTS 65535

/*
 * Environment the CLI gives the traced program: "PID:CTL:RING:FOLLOW". The
 * agent opens the control block and the ring as /proc/PID/fd/CTL and
 * /proc/PID/fd/RING (PID: the tracer); with FOLLOW 1 the programs exec'd
 * later do too.
 */
#define PK_ENV_TRACE "PROBEKIT_TRACE"
/* probekit list: write the probeable functions to this fd and exit before main(). */
#define PK_ENV_LIST_FD "PROBEKIT_LIST_FD"

/*
 * Attaching (`probekit trace -p`): the tracer listens on an abstract unix
 * socket and has the process call pk_agent_attach(name). Each side checks
 * the other's credentials. Then the tracer sends one command byte:
 *   'T' with the control block and ring fds (SCM_RIGHTS): arm and trace;
 *   'L': write the function list (a u64 length, then the text);
 * and later 'D' to detach. Closing the socket (the tracer died) detaches
 * too. The agent answers a detach with struct pk_agent_reply.
 */
#define PK_ATTACH_TRACE	 'T'
#define PK_ATTACH_LIST	 'L'
#define PK_ATTACH_DETACH 'D'

struct pk_agent_reply {
	int32_t err;	  /* 0: the engine was handed back, the agent can be unloaded */
	int32_t tid;	  /* the agent's thread, gone soon after this */
	uint32_t pending; /* frames still returning through the retprobe trampoline */
	/*
	 * Loads of the agent by tracers that died (no detach, so no dlclose),
	 * handed to this one, the last to leave, to dlclose as well.
	 */
	uint32_t orphans;
};

/* Per-event state, written by the agent. */
enum pk_agent_state {
	PK_AGENT_PENDING = 0, /* not looked at yet */
	PK_AGENT_ARMED,	      /* registered */
	PK_AGENT_FAILED,      /* refused: error holds the negative errno */
	PK_AGENT_DEFERRED,    /* its object is not loaded yet */
};

struct pk_agent_event {
	uint32_t state;	 /* enum pk_agent_state */
	int32_t error;	 /* negative errno when FAILED */
	uint64_t addr;	 /* where it was armed */
	uint64_t hits;	 /* handler runs */
	uint64_t missed; /* the engine's nmissed (+ retprobe nmissed) */
	char where[96];	 /* the probe point as %pS ("target+0x0/0x20"), for the CLI */
	uint32_t stack;	 /* set by the CLI: frames of user stack this event's records carry */
	uint32_t pad;
	/* Its definition, packed (pk_event_pack()): where in the block, and its bytes. */
	uint64_t def_offset;
	uint64_t def_size;
};

struct pk_agent_ctl {
	uint32_t magic;
	uint32_t version;
	uint32_t nevents;
	uint32_t def_size; /* sizeof(struct pk_event_def) */
	uint32_t ready;	   /* 1 once the agent has looked at every event (futex word) */
	uint32_t go;	   /* set by the CLI: 1 run the program, 2 give up (futex word) */
	int32_t agent_pid;
	uint32_t flags;	      /* PK_CTL_*, set by the CLI */
	uint64_t defs_offset; /* from the start of the block, after ev[nevents]: the definitions */
	struct pk_agent_event ev[];
};

/* Probes stay int3 (probekit trace --no-optimize). */
#define PK_CTL_NO_OPTIMIZE 0x1u
/*
 * probekit trace --stack: each record carries the user stack, at most
 * PK_CTL_STACK_DEPTH(flags) frames (bits 8-15 of the flags).
 */
#define PK_CTL_STACK		  0x2u
#define PK_CTL_STACK_DEPTH(flags) (((flags) >> 8) & 0xffu)
#define PK_STACK_MAX		  64
/* Records carry the cycle counter (pk_arch_cycles), not nanoseconds: the CLI converts. */
#define PK_CTL_CYCLES 0x4u

#define PK_TRACE_HDR_WHERE 0x1u
/*
 * The record ends with the user stack: PK_TRACE_HDR_NSTACK(flags) frames
 * (bits 8-15 of the flags) of 8 bytes, after the event's record: the hit's
 * address first, then return addresses found through the frame pointers,
 * as the kernel's userstacktrace.
 */
#define PK_TRACE_HDR_STACK	   0x2u
#define PK_TRACE_HDR_NSTACK(flags) (((flags) >> 8) & 0xffu)

/* Each ring record starts with this; the event's fetched record follows. */
struct pk_trace_hdr {
	uint64_t ts_ns; /* CLOCK_MONOTONIC, as the kernel's local trace clock (or PK_CTL_CYCLES) */
	uint32_t pid;
	uint32_t tid;
	uint32_t cpu;
	uint32_t flags;
	uint64_t ip;	 /* the probe address, or for a return the function */
	uint64_t ret_ip; /* return probes: where the function returned to */
	char comm[16];
	/*
	 * Return probes: ret_ip as %pS, made where the symbols are. Entry
	 * probes with PK_TRACE_HDR_WHERE in flags: the probe point as %pS, in
	 * a program exec'd later where it is not the control block's.
	 */
	char caller[64];
};

#endif /* PK_AGENT_PROTO_H */
