// SPDX-License-Identifier: MIT
/*
 * The agent stamps records with the cycle counter (a few cycles where
 * clock_gettime() costs about 25 ns per event); the tracer keeps pairs of
 * (cycles, CLOCK_MONOTONIC) read together and converts from the latest
 * pair with the rate measured over the last RATE_SPAN or more. Records are read
 * within milliseconds of being written, so each is converted from an
 * anchor close to it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arch_clock.h"
#include "cli/clock.h"

#define RATE_SPAN 100000000ull /* ns: pair jitter (tens of ns) is then a 1e-6 error */

/* Whether pk_arch_cycles() is one steady clock for the whole machine: the kernel's judgement. */
static int cycles_usable(void)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
	char name[32] = "";
	int ok;

	if (!f)
		return 0;
	ok = fgets(name, sizeof(name), f) && !strcmp(name, ARCH_CYCLES_CLOCKSOURCE "\n");
	fclose(f);
	return ok;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A pair read as close together as three tries allow. */
static void pair(uint64_t *cyc, uint64_t *ns)
{
	uint64_t best = ~0ull;
	int i;

	for (i = 0; i < 3; i++) {
		uint64_t a = pk_arch_cycles(), n = mono_ns(), b = pk_arch_cycles();

		if (b - a < best) {
			best = b - a;
			*cyc = a + (b - a) / 2;
			*ns = n;
		}
	}
}

void pk_cycle_clock_init(struct pk_cycle_clock *c)
{
	uint64_t cyc, ns;

	c->on = cycles_usable();
	if (!c->on)
		return;
	pair(&c->cyc0, &c->ns0);
	do
		pair(&cyc, &ns);
	while (ns - c->ns0 < 2000000);
	c->cyc1 = cyc;
	c->ns1 = ns;
	c->ns_per_cycle = (double)(ns - c->ns0) / (double)(cyc - c->cyc0);
	if (!(c->ns_per_cycle > 0))
		c->on = 0;
}

void pk_cycle_clock_sample(struct pk_cycle_clock *c)
{
	uint64_t cyc, ns;

	if (!c->on)
		return;
	pair(&cyc, &ns);
	if (cyc <= c->cyc1)
		return;
	if (ns - c->ns0 >= RATE_SPAN) {
		c->ns_per_cycle = (double)(ns - c->ns0) / (double)(cyc - c->cyc0);
		c->cyc0 = cyc;
		c->ns0 = ns;
	}
	c->cyc1 = cyc;
	c->ns1 = ns;
}

uint64_t pk_cycle_clock_ns(const struct pk_cycle_clock *c, uint64_t ts)
{
	double d;

	if (!c->on)
		return ts;
	d = ((double)ts - (double)c->cyc1) * c->ns_per_cycle;
	return (uint64_t)((double)c->ns1 + d);
}
