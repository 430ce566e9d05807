// SPDX-License-Identifier: MIT
/* probekit: the command. One file per subcommand, as uftrace does. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
    {"trace", cmd_trace, "record probe events of a program, printed as ftrace prints them"},
    {"list", cmd_list, "the functions that can be probed, and why not for the others"},
    {"probe", cmd_probe,
     "perf probe's definitions by source (DWARF) made into kprobe_events lines"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: probekit COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\n'probekit COMMAND -h' describes each.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("probekit %s\n", PK_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "probekit: '%s' is not a command\n", argv[1]);
	usage(stderr);
	return 2;
}
