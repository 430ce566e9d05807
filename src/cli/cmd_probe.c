// SPDX-License-Identifier: MIT
/*
 * probekit probe: perf probe's definitions, source listing and variable
 * listing on an object's DWARF, printed rather than installed (perf probe
 * --dry-run): the kprobe_events lines go to standard output, ready for
 * probekit trace -e (or the kernel's uprobe_events), and perf's "-l"
 * description of each to standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/probe.h"

static void probe_usage(FILE *f)
{
	fprintf(f,
		"usage: probekit probe -x BIN [--debug-file FILE] [-q] [-a] DEF...\n"
		"       probekit probe -x BIN -L FUNC[@SRC][:START[-END|+COUNT]] | SRC[:START...]\n"
		"       probekit probe -x BIN -V DEF\n"
		"       probekit probe -x BIN -F [--filter GLOB]\n"
		"\n"
		"DEF is perf probe's language, compiled with BIN's DWARF:\n"
		"  [[GROUP:]EVENT=]FUNC[@SRC][:RLN|+OFFS|%%return|;PTN] [ARG...]\n"
		"  [[GROUP:]EVENT=]SRC:ALN [ARG...]     [[GROUP:]EVENT=]SRC;PTN [ARG...]\n"
		"ARG is [NAME=]VAR[->MEMBER|.MEMBER|[N]...][:TYPE], $retval, $params, $vars,\n"
		"or a fetch argument of kprobe_events ($arg1, +8($arg2):u32, @+0x1234).\n"
		"For example:\n"
		"  probekit probe -x ./main 'callee a p->name:string' 'callee%%return $retval'\n"
		"  probekit trace -x ./main --probe 'callee a' -- ./main    (the same, traced)\n"
		"\n"
		"options:\n"
		"  -x, --exec BIN     the program or library (its DWARF: in the file,\n"
		"                     /usr/lib/debug/.build-id/, or .gnu_debuglink's)\n"
		"      --debug-file F take the DWARF from F\n"
		"  -a, --add DEF      print DEF's kprobe_events definitions (one per address\n"
		"                     it stands for: every inlined copy, every line-table row)\n"
		"  -L, --line RANGE   the source, lines with code numbered (relative to FUNC)\n"
		"  -V, --vars DEF     the variables available at each address of DEF\n"
		"  -F, --funcs        the functions (not starting with '_' unless --filter)\n"
		"      --filter GLOB  -F: only the functions matching GLOB\n"
		"  -q, --quiet        -a: no description on standard error\n"
		"  -h, --help         this text\n");
}

struct opts {
	const char *bin, *debug_file, *filter;
	char mode; /* 'a', 'L', 'V', 'F' */
	const char *arg;
	const char **defs;
	int ndefs;
	int quiet;
};

static int print_def(void *arg, const char *def, const char *desc)
{
	const struct opts *o = arg;

	printf("%s\n", def);
	if (!o->quiet)
		fprintf(stderr, "%s\n", desc);
	return 0;
}

static int set_mode(struct opts *o, char mode)
{
	if (o->mode && o->mode != mode) {
		fprintf(stderr, "probekit probe: -%c and -%c exclude each other\n", o->mode, mode);
		return -EINVAL;
	}
	o->mode = mode;
	return 0;
}

static int parse(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"exec", required_argument, NULL, 'x'},   {"debug-file", required_argument, NULL, 'D'},
	    {"add", required_argument, NULL, 'a'},    {"line", required_argument, NULL, 'L'},
	    {"vars", required_argument, NULL, 'V'},   {"funcs", no_argument, NULL, 'F'},
	    {"filter", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	char **cmd = NULL;
	int c;

	o->defs = calloc((size_t)argc + 1, sizeof(*o->defs));
	if (!o->defs)
		return -ENOMEM;
	while ((c = pk_cli_getopt(argc, argv, "x:a:L:V:Fqh", longopts, &cmd)) != -1) {
		switch (c) {
		case 1:
		case 'a':
			if (set_mode(o, 'a'))
				return -EINVAL;
			o->defs[o->ndefs++] = optarg;
			break;
		case 'x': o->bin = optarg; break;
		case 'D': o->debug_file = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'L':
		case 'V':
		case 'F':
			if (set_mode(o, (char)c))
				return -EINVAL;
			o->arg = optarg;
			break;
		case 'h': probe_usage(stdout); exit(0);
		default: probe_usage(stderr); return -EINVAL;
		}
	}
	if (!o->bin || !o->mode) {
		fprintf(stderr, "probekit probe: %s\n",
			!o->bin ? "no object: give -x BIN"
				: "nothing to do: give DEF, -L, -V or -F");
		probe_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int cmd_probe(int argc, char **argv)
{
	struct opts o = {0};
	char why[PK_PP_WHY] = "";
	struct pk_dbg *d = NULL;
	struct pk_pp pp;
	struct pk_pp_range r;
	int i, err;

	if (parse(&o, argc, argv))
		return 2;
	err = pk_dbg_open(o.bin, o.debug_file, &d, why, sizeof(why));
	if (err)
		goto out;
	switch (o.mode) {
	case 'F': err = pk_pp_show_funcs(d, o.filter, stdout); break;
	case 'L':
		err = pk_pp_parse_range(o.arg, &r, why, sizeof(why));
		if (!err) {
			err = pk_pp_show_lines(d, &r, stdout, why, sizeof(why));
			pk_pp_range_free(&r);
		}
		break;
	case 'V':
		err = pk_pp_parse(o.arg, &pp, why, sizeof(why));
		if (!err) {
			err = pk_pp_show_vars(d, &pp, stdout, why, sizeof(why));
			pk_pp_free(&pp);
		}
		break;
	default:
		for (i = 0; !err && i < o.ndefs; i++) {
			err = pk_pp_parse(o.defs[i], &pp, why, sizeof(why));
			if (err)
				break;
			err = pk_pp_derive(d, &pp, print_def, &o, why, sizeof(why));
			pk_pp_free(&pp);
			if (err && why[0]) {
				fprintf(stderr, "probekit probe: '%s': %s\n", o.defs[i], why);
				why[0] = 0;
			}
		}
	}
out:
	if (err && why[0])
		fprintf(stderr, "probekit probe: %s\n", why);
	pk_dbg_close(d);
	free(o.defs);
	return err ? 1 : 0;
}
