/* SPDX-License-Identifier: MIT */
/*
 * Trace record timestamps in cycles, turned into CLOCK_MONOTONIC
 * nanoseconds by the tracer.
 */
#ifndef PK_CLI_CLOCK_H
#define PK_CLI_CLOCK_H

#include <stdint.h>

struct pk_cycle_clock {
	int on;		     /* records carry cycles */
	uint64_t cyc0, ns0;  /* the pair the rate was last measured from */
	uint64_t cyc1, ns1;  /* the latest pair: the anchor */
	double ns_per_cycle; /* between the two */
};

/* Decide whether records may carry cycles; measure a first rate if so (about 2 ms). */
void pk_cycle_clock_init(struct pk_cycle_clock *c);
/* A new pair, as the trace goes on: the rate follows NTP's slewing of CLOCK_MONOTONIC. */
void pk_cycle_clock_sample(struct pk_cycle_clock *c);
/* A record's timestamp in CLOCK_MONOTONIC nanoseconds (@ts itself when cycles are off). */
uint64_t pk_cycle_clock_ns(const struct pk_cycle_clock *c, uint64_t ts);

#endif /* PK_CLI_CLOCK_H */
