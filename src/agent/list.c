// SPDX-License-Identifier: MIT
/*
 * probekit list, inside the program: every function of every loaded
 * object, each one the engine would refuse followed by why.
 */
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/proto.h"
#include "internal.h"
#include "sym/sym.h"

static const char *refusal(int err)
{
	switch (err) {
	case 0: return NULL;
	case -EINVAL: return "blacklisted: the engine runs it on the trap path";
	case -EOPNOTSUPP: return "its first instruction can be neither relocated nor emulated";
	case -EFAULT: return "not executable text";
	case -EILSEQ: return "not on an instruction boundary";
	default: return strerror(-err);
	}
}

static int list_one(const struct pk_sym_info *si, void *arg)
{
	const char *why = refusal(pk_probe_check(NULL, (void *)si->start));
	char name[512];

	/* C++ and Rust functions under the names a definition can use. */
	fprintf(arg, "%s%s%s%s%s%s\n",
		pk_demangle_name(si->name, name, sizeof(name)) ? si->name : name,
		si->is_exe ? "" : " [", si->is_exe ? "" : si->object, si->is_exe ? "" : "]",
		why ? "\t# " : "", why ? why : "");
	return 0;
}

/* A loaded object's DT_NEEDED entries, each given to @fn; the loader has relocated l_ld. */
static void each_needed(const struct link_map *m, void (*fn)(const char *, void *), void *arg)
{
	const ElfW(Dyn) * d;
	const char *strtab = NULL;

	for (d = m->l_ld; d && d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_STRTAB)
			strtab = (const char *)d->d_un.d_ptr;
	for (d = m->l_ld; strtab && d && d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_NEEDED)
			fn(strtab + d->d_un.d_val, arg);
}

struct closure {
	const struct link_map *maps[256];
	int n, mine[256];
	FILE *out;
};

static void mark_needed(const char *soname, void *arg)
{
	struct closure *c = arg;
	int i;

	for (i = 0; i < c->n; i++) {
		const char *b = strrchr(c->maps[i]->l_name, '/');

		if (!strcmp(b ? b + 1 : c->maps[i]->l_name, soname) ||
		    !strcmp(c->maps[i]->l_name, soname))
			c->mine[i] = 1;
	}
}

/*
 * The program's own objects: the executable, what it needs (and what they
 * need), the loader, libraries the user preloaded. Not the agent and the
 * libraries only it needs (libZydis, libelf): those are not the program's.
 */
static void program_closure(struct closure *c)
{
	const struct link_map *m;
	const char *pre = getenv("LD_PRELOAD");
	int i, changed = 1;

	for (m = _r_debug.r_map; m && c->n < 256; m = m->l_next) {
		c->maps[c->n] = m;
		c->mine[c->n] = !m->l_name[0] || strstr(m->l_name, "ld-linux") ||
				(pre && m->l_name[0] && strstr(pre, m->l_name) &&
				 !strstr(m->l_name, "libprobekit-agent"));
		c->n++;
	}
	while (changed) {
		int before = 0, after = 0;

		for (i = 0; i < c->n; i++)
			before += c->mine[i];
		for (i = 0; i < c->n; i++)
			if (c->mine[i])
				each_needed(c->maps[i], mark_needed, c);
		for (i = 0; i < c->n; i++)
			after += c->mine[i];
		changed = after != before;
	}
}

static int list_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct closure *c = arg;
	char exe[PATH_MAX];
	const char *name = pk_agent_object_path(info, exe, sizeof(exe)), *base;
	int i, mine = 0;

	(void)size;
	if (!name)
		return 0;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!strncmp(base, "linux-vdso", 10))
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->maps[i]->l_addr == info->dlpi_addr && c->mine[i])
			mine = 1;
	/* The agent and what only it loaded are not the program's. */
	if (mine)
		pk_sym_foreach(base, list_one, c->out);
	return 0;
}

void pk_agent_list(FILE *out)
{
	struct closure *c = calloc(1, sizeof(*c));

	pk_agent_busy = 1;
	if (!c)
		return;
	c->out = out;
	program_closure(c);
	dl_iterate_phdr(list_object, c);
	free(c);
}

/* probekit list: every function of every loaded object, probeable or why not. */
void pk_agent_list_functions(void)
{
	const char *v = getenv(PK_ENV_LIST_FD);
	char *end;
	long fd = v && *v ? strtol(v, &end, 10) : -1;
	FILE *out;

	if (fd < 0 || *end)
		return;
	out = fdopen((int)fd, "w");
	if (!out)
		_exit(1);
	pk_agent_list(out);
	fclose(out);
	_exit(0);
}
