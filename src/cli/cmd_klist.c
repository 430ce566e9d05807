// SPDX-License-Identifier: MIT
/*
 * probekit list --kernel: the kernel functions a kprobe can go on, that is
 * available_filter_functions less the kprobe blacklist, whose entries are
 * address ranges (a whole section) as well as functions by name.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/tracefs.h"

struct krange {
	unsigned long lo;
	unsigned long hi;
};

struct kname {
	const char *name;
	unsigned long addr;
};

static int cmp_range(const void *a, const void *b)
{
	const struct krange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int cmp_kname(const void *a, const void *b)
{
	return strcmp(((const struct kname *)a)->name, ((const struct kname *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void klist_usage(FILE *f)
{
	fprintf(f, "usage: probekit list --kernel [GLOB]\n"
		   "\n"
		   "Lists the kernel functions a kprobe can go on: those of\n"
		   "available_filter_functions that the kprobe blacklist\n"
		   "(/sys/kernel/debug/kprobes/blacklist) does not hold, as 'func' or\n"
		   "'func [module]'. GLOB filters by function name (fnmatch).\n");
}

/* Blacklist lines are "0xSTART-0xEND\tNAME": the ranges, and the names. */
static void read_blacklist(char *buf, struct krange **ranges, size_t *nr, char ***names, size_t *nn)
{
	char *line, *save = NULL;
	size_t cap = 0;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		char *tab = strchr(line, '\t');

		if (*nr == cap) {
			void *g1, *g2;

			cap = cap ? cap * 2 : 256;
			g1 = realloc(*ranges, cap * sizeof(**ranges));
			if (g1)
				*ranges = g1;
			g2 = realloc(*names, cap * sizeof(**names));
			if (g2)
				*names = g2;
			if (!g1 || !g2)
				return;
		}
		if (sscanf(line, "0x%lx-0x%lx", &lo, &hi) == 2 && hi > lo) {
			(*ranges)[*nr].lo = lo;
			(*ranges)[*nr].hi = hi;
			(*nr)++;
		}
		/* "func", or "func [module]" for a module's. */
		if (tab) {
			tab[1 + strcspn(tab + 1, " \t")] = 0;
			(*names)[(*nn)++] = tab + 1;
		}
	}
	qsort(*ranges, *nr, sizeof(**ranges), cmp_range);
	qsort(*names, *nn, sizeof(**names), cmp_str);
}

static int in_ranges(const struct krange *r, size_t n, unsigned long addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ranges may nest (a section holding functions): look back while they could cover. */
	while (lo-- > 0)
		if (addr < r[lo].hi)
			return 1;
	return 0;
}

/* Text symbols of /proc/kallsyms by name, for the functions' addresses. */
static struct kname *read_kallsyms(char *text, size_t *n)
{
	struct kname *v = NULL;
	size_t cap = 0;
	char *line, *save = NULL;

	*n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp1 = strchr(line, ' '), *name, *end;

		if (!sp1 || (sp1[1] != 't' && sp1[1] != 'T') || sp1[2] != ' ')
			continue;
		name = sp1 + 3;
		end = strpbrk(name, " \t");
		if (end)
			*end = 0;
		if (*n == cap) {
			struct kname *g;

			cap = cap ? cap * 2 : 65536;
			g = realloc(v, cap * sizeof(*v));
			if (!g)
				break;
			v = g;
		}
		v[*n].name = name;
		v[(*n)++].addr = strtoul(line, NULL, 16);
	}
	if (v)
		qsort(v, *n, sizeof(*v), cmp_kname);
	return v;
}

int pk_klist_print(char *funcs, char *blacklist, char *kallsyms, const char *glob, FILE *out)
{
	struct krange *ranges = NULL;
	struct kname *addrs = NULL;
	char **names = NULL, *line, *save = NULL;
	size_t nr = 0, nn = 0, na = 0;
	int shown = 0;

	if (blacklist)
		read_blacklist(blacklist, &ranges, &nr, &names, &nn);
	if (nr && kallsyms)
		addrs = read_kallsyms(kallsyms, &na);
	for (line = strtok_r(funcs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[512];
		struct kname key = {.name = name}, *hit;
		const char *pname = name;

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, " \t"), line);
		if (glob && fnmatch(glob, name, 0))
			continue;
		if (nn && bsearch(&pname, names, nn, sizeof(*names), cmp_str))
			continue;
		hit = na ? bsearch(&key, addrs, na, sizeof(*addrs), cmp_kname) : NULL;
		if (hit && in_ranges(ranges, nr, hit->addr))
			continue;
		fprintf(out, "%s\n", line);
		shown++;
	}
	free(ranges);
	free(names);
	free(addrs);
	return shown;
}

int cmd_list_kernel(int argc, char **argv)
{
	char *funcs = NULL, *bl = NULL, *ksyms = NULL;
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *glob = NULL;
	char **cmd;
	int c, err, debugfs, shown = 0;

	argc = pk_drop_kernel_flag(argc, argv);
	while ((c = pk_cli_getopt(argc, argv, "h", longopts, &cmd)) != -1) {
		if (c == 1 && !glob) {
			glob = optarg;
			continue;
		}
		if (c == 'h') {
			klist_usage(stdout);
			return 0;
		}
		klist_usage(stderr);
		return 2;
	}
	err = pk_tracefs_mount();
	if (err) {
		fprintf(stderr, "probekit list: cannot mount tracefs at %s: %s\n", PK_TRACEFS,
			strerror(-err));
		return 1;
	}
	/* Kprobes without kprobe events still have their blacklist in debugfs. */
	debugfs = pk_debugfs_mount();
	if (!pk_tracefs_exists("kprobe_events") && access(PK_DEBUGFS "/kprobes", F_OK)) {
		static const char *const opts[] = {"CONFIG_KPROBES", NULL};

		pk_kernel_say_missing("list", "kprobes", opts, PK_DEBUGFS "/kprobes");
		return 1;
	}
	err = pk_tracefs_read("available_filter_functions", &funcs, NULL);
	if (err) {
		fprintf(stderr, "probekit list: %s/available_filter_functions: %s\n", PK_TRACEFS,
			strerror(-err));
		return 1;
	}
	err = debugfs ? debugfs : pk_file_read(PK_DEBUGFS "/kprobes/blacklist", &bl, NULL);
	if (err)
		fprintf(
		    stderr,
		    "probekit list: cannot read %s/kprobes/blacklist (%s): listing without it\n",
		    PK_DEBUGFS, strerror(-err));
	/* Addresses for the blacklist's ranges; without them, its names alone. */
	if (bl && pk_file_read("/proc/kallsyms", &ksyms, NULL))
		ksyms = NULL;
	shown = pk_klist_print(funcs, bl, ksyms, glob, stdout);
	free(funcs);
	free(bl);
	free(ksyms);
	return shown ? 0 : 1;
}
