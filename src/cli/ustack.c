// SPDX-License-Identifier: MIT
/*
 * The frames of a user stack to the kernel's sym-userobj text, with each
 * process's mappings read from /proc/PID/maps and kept, since the process
 * may be gone by the time its last records are printed.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/ustack.h"

struct umap {
	uint64_t start, end;
	char *path; /* NULL: no file */
};

struct uproc {
	pid_t pid;
	struct umap *maps;
	size_t n;
};

#define NPROCS 16 /* processes whose mappings are kept, the latest */

struct pk_ustack {
	struct uproc procs[NPROCS];
	unsigned int next;
};

struct pk_ustack *pk_ustack_new(void)
{
	return calloc(1, sizeof(struct pk_ustack));
}

static void forget(struct uproc *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->maps[i].path);
	free(p->maps);
	p->maps = NULL;
	p->n = 0;
}

void pk_ustack_free(struct pk_ustack *u)
{
	unsigned int i;

	for (i = 0; u && i < NPROCS; i++)
		forget(&u->procs[i]);
	free(u);
}

/*
 * 0 once @p holds the process's mappings now; -1 if /proc has none for it
 * (a process gone, or a zombie's empty list): then @p keeps what it had.
 */
static int load(struct uproc *p)
{
	struct uproc fresh = {.pid = p->pid};
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long s, e;
		struct umap *m;
		int off = 0;

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &s, &e, &off) < 2 || !off)
			continue;
		m = realloc(fresh.maps, (fresh.n + 1) * sizeof(*m));
		if (!m)
			break;
		fresh.maps = m;
		m = &m[fresh.n++];
		m->start = s;
		m->end = e;
		line[strcspn(line, "\n")] = 0;
		m->path = line[off] == '/' ? strdup(line + off) : NULL;
	}
	free(line);
	fclose(f);
	if (!fresh.n)
		return -1;
	forget(p);
	*p = fresh;
	return 0;
}

static const struct umap *find(const struct uproc *p, uint64_t ip)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (ip >= p->maps[i].start && ip < p->maps[i].end)
			return &p->maps[i];
	return NULL;
}

/* The kept mappings of @pid, read now if there are none; *@fresh: just read. */
static struct uproc *proc_of(struct pk_ustack *u, pid_t pid, int *fresh)
{
	struct uproc *p;
	unsigned int i;

	*fresh = 0;
	for (i = 0; u && i < NPROCS; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	if (!u)
		return NULL;
	p = &u->procs[u->next++ % NPROCS];
	forget(p);
	p->pid = pid;
	*fresh = !load(p);
	return p;
}

void pk_ustack_preload(struct pk_ustack *u, pid_t pid)
{
	int fresh;

	proc_of(u, pid, &fresh);
}

void pk_ustack_print(struct pk_ustack *u, FILE *f, pid_t pid, const uint64_t *frames,
		     unsigned int n)
{
	unsigned int i;
	int reloaded;
	struct uproc *p = proc_of(u, pid, &reloaded);

	for (i = 0; i < n && frames[i]; i++) {
		const struct umap *m = p ? find(p, frames[i]) : NULL;

		if (!m && p && !reloaded) {
			reloaded = 1;
			if (!load(p))
				m = find(p, frames[i]);
		}
		if (m && m->path)
			fprintf(f, " => %s[+0x%llx]\n", m->path,
				(unsigned long long)(frames[i] - m->start));
		else
			fprintf(f, " =>  <%016llx>\n", (unsigned long long)frames[i]);
	}
}
