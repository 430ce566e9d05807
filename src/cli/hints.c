// SPDX-License-Identifier: MIT
/*
 * What to do when a definition finds nothing: the names nearest to a
 * symbol that does not exist, the objects a process has loaded when the
 * one named is not among them, and how to probe a program without
 * symbols. Read from the files the process maps, in the CLI.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sym/sym.h"

#define NEAR 5

static const char *base_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * A string entry @tag of the ELF file @path's dynamic section: with @want,
 * whether one equals it; without, the first one, copied to @out.
 */
static int dyn_str(const char *path, long tag, const char *want, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Dyn dyn;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; !found && d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *v;

			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag != tag)
				continue;
			v = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
			found = v && (!want || !strcmp(v, want));
			if (found && out)
				snprintf(out, size, "%s", v);
		}
	}
	elf_end(elf);
	close(fd);
	return found;
}

/* Whether the ELF file @path needs the library @lib (by its soname, else its file name). */
static int needs(const char *path, const char *lib)
{
	char soname[256];

	if (!dyn_str(lib, DT_SONAME, NULL, soname, sizeof(soname)))
		snprintf(soname, sizeof(soname), "%s", base_of(lib));
	return dyn_str(path, DT_NEEDED, soname, NULL, 0);
}

/*
 * The executable files @pid maps, each once: its program and libraries,
 * less the agent and the libraries the agent needs and the program does not.
 */
static int mapped_files(pid_t pid, char (*files)[PATH_MAX], int max)
{
	char path[64], line[PATH_MAX + 256], perm[8], agent[PATH_MAX], exe[PATH_MAX] = "";
	int n = 0, i;
	ssize_t len;
	FILE *f;

	pk_agent_path(agent, sizeof(agent));
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	len = readlink(path, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');

		if (!file || sscanf(line, "%*s %7s", perm) != 1 || !strchr(perm, 'x'))
			continue;
		file[strcspn(file, "\n")] = 0;
		if (strstr(file, "libprobekit-agent"))
			continue;
		if (!strstr(file, "/ld-linux") && needs(agent, file) && !needs(exe, file))
			continue;
		for (i = 0; i < n && strcmp(files[i], file); i++)
			;
		if (i == n)
			snprintf(files[n++], PATH_MAX, "%s", file);
	}
	fclose(f);
	return n;
}

/* Levenshtein distance, capped: names further than @cap are all the same to us. */
static unsigned int distance(const char *a, const char *b, unsigned int cap)
{
	unsigned int row[64], i, j, la = (unsigned int)strlen(a), lb = (unsigned int)strlen(b);

	if (la >= 64 || lb >= 64 || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned int diag = row[0], best;

		row[0] = i;
		best = i;
		for (j = 1; j <= lb; j++) {
			unsigned int up = row[j], v = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			diag = up;
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb];
}

struct near {
	const char *want;
	char names[NEAR][128];
	unsigned int dist[NEAR];
	int n;
	long seen;
};

static int consider(const char *name, void *arg)
{
	struct near *x = arg;
	unsigned int cap = (unsigned int)strlen(x->want) / 3 + 1, d;
	int i, worst = 0;

	x->seen++;
	d = strstr(name, x->want) ? 1 : distance(x->want, name, cap);
	if (d > cap)
		return 0;
	for (i = 0; i < x->n; i++)
		if (!strcmp(x->names[i], name))
			return 0;
	if (x->n < NEAR) {
		i = x->n++;
	} else {
		for (i = 1; i < NEAR; i++)
			if (x->dist[i] > x->dist[worst])
				worst = i;
		if (x->dist[worst] <= d)
			return 0;
		i = worst;
	}
	snprintf(x->names[i], sizeof(x->names[i]), "%s", name);
	x->dist[i] = d;
	return 0;
}

void pk_cli_hint_symbol(pid_t pid, const char *object, const char *symbol)
{
	static char files[64][PATH_MAX];
	int n = mapped_files(pid, files, 64), i, j, searched = 0;
	struct near x = {.want = symbol};
	long seen_before;

	for (i = 0; i < n; i++) {
		if (*object && strcmp(base_of(files[i]), base_of(object)))
			continue;
		seen_before = x.seen;
		pk_sym_file_foreach(files[i], consider, &x);
		searched++;
		if (x.seen == seen_before)
			fprintf(
			    stderr,
			    "  %s has no symbol table (stripped): probe it by file offset, as "
			    "in 'p %s:0x1139' (the offset as objdump -d or readelf show it), or "
			    "install its debug symbols\n",
			    files[i], files[i]);
	}
	if (!x.n)
		return;
	/* Nearest first. */
	for (i = 0; i < x.n; i++)
		for (j = i + 1; j < x.n; j++)
			if (x.dist[j] < x.dist[i]) {
				char tmp[128];
				unsigned int d = x.dist[i];

				memcpy(tmp, x.names[i], sizeof(tmp));
				memcpy(x.names[i], x.names[j], sizeof(tmp));
				memcpy(x.names[j], tmp, sizeof(tmp));
				x.dist[i] = x.dist[j];
				x.dist[j] = d;
			}
	fprintf(stderr, "  no function '%s'%s%s; the nearest names:", symbol, *object ? " in " : "",
		object);
	for (i = 0; i < x.n; i++)
		fprintf(stderr, "%s %s", i ? "," : "", x.names[i]);
	fputc('\n', stderr);
	(void)searched;
}

void pk_cli_hint_object(pid_t pid, const char *object)
{
	static char files[64][PATH_MAX];
	int n = mapped_files(pid, files, 64), i;
	const char *best = NULL;
	unsigned int d, bestd = 4;

	fprintf(stderr, "  loaded now:");
	for (i = 0; i < n; i++) {
		fprintf(stderr, "%s %s", i ? "," : "", base_of(files[i]));
		d = strncmp(base_of(files[i]), object, strlen(object))
			? distance(object, base_of(files[i]), 3)
			: 0;
		if (d < bestd) {
			bestd = d;
			best = base_of(files[i]);
		}
	}
	fputc('\n', stderr);
	if (best)
		fprintf(stderr, "  (did you mean %s? an object is named by its file name)\n", best);
}
