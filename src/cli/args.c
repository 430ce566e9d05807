// SPDX-License-Identifier: MIT
/*
 * Options and definitions in any order before "--", as perf, bpftrace and
 * git take them. getopt_long in its return-in-order mode does the walking;
 * the one definition that starts with '-' (a deletion, "-:EVENT") would
 * look like an option to it, so getopt sees a stand-in for that word.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static char **shadow;
static char stand_in[] = "\x01";

int pk_cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
		  char ***cmd)
{
	char opts[128];
	int c, i;

	if (!shadow) {
		shadow = calloc((size_t)argc + 1, sizeof(*shadow));
		if (!shadow)
			return -1;
		for (i = 0; i < argc; i++)
			shadow[i] = argv[i];
		for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
			if (!strncmp(argv[i], "-:", 2))
				shadow[i] = stand_in;
		optind = 1;
	}
	/* '-': every word that is not an option comes back in order, as 1. */
	snprintf(opts, sizeof(opts), "-%s", optstring);
	c = getopt_long(argc, shadow, opts, longopts, NULL);
	if (c == 1)
		optarg = argv[optind - 1];
	if (c == -1) {
		/* A "--" ends the options; what follows is the command. */
		*cmd = optind > 1 && !strcmp(argv[optind - 1], "--") ? &argv[optind] : NULL;
		free(shadow);
		shadow = NULL;
	}
	return c;
}
