// SPDX-License-Identifier: MIT
/*
 * "-x BIN --probe DEF" for probekit trace (both backends) and probekit
 * probe: a perf probe definition derived on the last -x object, each
 * kprobe_events line handed on as if the user had written it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/probe.h"
#include "cli/probe_cli.h"

struct add_ctx {
	int (*add)(void *ctx, const char *line);
	void *ctx;
	int count;
};

static int add_one(void *arg, const char *def, const char *desc)
{
	struct add_ctx *a = arg;

	(void)desc;
	a->count++;
	return a->add(a->ctx, def);
}

int pk_probe_add(const char *cmd, const char *bin, const char *debug_file, const char *text,
		 int (*add)(void *ctx, const char *line), void *ctx)
{
	struct add_ctx a = {.add = add, .ctx = ctx};
	char why[PK_PP_WHY] = "";
	struct pk_dbg *d;
	struct pk_pp pp;
	int err;

	if (!bin) {
		fprintf(stderr, "%s: --probe '%s' needs the object first: -x BIN\n", cmd, text);
		return -EINVAL;
	}
	err = pk_pp_parse(text, &pp, why, sizeof(why));
	if (err) {
		fprintf(stderr, "%s: --probe '%s': %s\n", cmd, text, why);
		return err;
	}
	err = pk_dbg_open(bin, debug_file, &d, why, sizeof(why));
	if (!err) {
		why[0] = 0;
		err = pk_pp_derive(d, &pp, add_one, &a, why, sizeof(why));
		pk_dbg_close(d);
	}
	if (err && why[0])
		fprintf(stderr, "%s: --probe '%s': %s\n", cmd, text, why);
	pk_pp_free(&pp);
	return err;
}
