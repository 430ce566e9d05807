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

static int list_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	char exe[PATH_MAX];
	const char *name = pk_agent_object_path(info, exe, sizeof(exe)), *base;

	(void)size;
	if (!name)
		return 0;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	/* Ourselves: nothing of the agent is the program's. */
	if (!strncmp(base, "libprobekit-agent", 17) || !strncmp(base, "linux-vdso", 10))
		return 0;
	pk_sym_foreach(base, list_one, arg);
	return 0;
}

void pk_agent_list(FILE *out)
{
	pk_agent_busy = 1;
	dl_iterate_phdr(list_object, out);
}

/* probekit list: every function of every loaded object, probeable or why not. */
void pk_agent_list_functions(int fd)
{
	FILE *out = fdopen(fd, "w");

	if (!out)
		_exit(1);
	pk_agent_list(out);
	fclose(out);
	_exit(0);
}
