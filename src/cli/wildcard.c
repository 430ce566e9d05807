// SPDX-License-Identifier: MIT
/*
 * Wildcards in a definition's symbol ('p libcrypto.so.3:EVP_*'), as
 * bpftrace and uftrace take them: one definition per matching function of
 * the object, each event named after its function. The object's file is
 * found as the loader would find it (a path, the traced program, or a
 * library by name in the loader's directories), and read, not run.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "cli/cli.h"
#include "cli/trace.h"
#include "events/events.h"
#include "sym/sym.h"

int pk_cli_is_wildcard(const struct pk_event_def *d)
{
	return (d->form == PK_EV_FORM_SYMBOL || d->form == PK_EV_FORM_FILE_SYMBOL) &&
	       strpbrk(pk_event_str(d, d->symbol), "*?[");
}

static int in_dir(const char *dir, size_t n, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%.*s/%s", (int)n, dir, name);
	return !access(out, R_OK);
}

/* @name as a file: a path, the traced program (@exe), or a library in the loader's places. */
static int find_object(const char *name, const char *exe, char *out, size_t size)
{
	static const char *const dirs[] = {"/lib/" ARCH_MULTIARCH,
					   "/usr/lib/" ARCH_MULTIARCH,
					   "/lib64",
					   "/usr/lib64",
					   "/lib",
					   "/usr/lib",
					   "/usr/local/lib"};
	const char *ldp = getenv("LD_LIBRARY_PATH"), *base;
	size_t i;

	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return access(out, R_OK) ? -errno : 0;
	}
	if (exe) {
		base = strrchr(exe, '/');
		if (!strcmp(base ? base + 1 : exe, name)) {
			snprintf(out, size, "%s", exe);
			return 0;
		}
	}
	while (ldp && *ldp) {
		size_t n = strcspn(ldp, ":");

		if (n && in_dir(ldp, n, name, out, size))
			return 0;
		ldp += n + (ldp[n] == ':');
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (in_dir(dirs[i], strlen(dirs[i]), name, out, size))
			return 0;
	return -ENOENT;
}

struct expand {
	struct trace *t;
	const char *line, *glob, *objspec, *rest, *group;
	char kind[16];
	int (*add)(struct trace *, const char *);
	unsigned int n;
	int err;
};

static int one(const char *name, void *arg)
{
	struct expand *x = arg;
	char line[PK_EV_MAX_LINE], event[PK_EV_NAME_SIZE];
	size_t i;

	if (fnmatch(x->glob, name, 0))
		return 0;
	/* An event name is letters, digits and '_'; and it starts with a letter or '_'. */
	snprintf(event, sizeof(event), "%s%s", isdigit((unsigned char)name[0]) ? "_" : "", name);
	for (i = 0; event[i]; i++)
		if (!isalnum((unsigned char)event[i]) && event[i] != '_')
			event[i] = '_';
	if ((size_t)snprintf(line, sizeof(line), "%s:%s%s%s %s%s%s%s", x->kind, x->group,
			     *x->group ? "/" : "", event, x->objspec, *x->objspec ? ":" : "", name,
			     x->rest) >= sizeof(line))
		return 0;
	x->n++;
	return x->add(x->t, line);
}

int pk_cli_expand_wildcard(struct trace *t, const char *line, const struct pk_event_def *d,
			   const char *exe, int (*add)(struct trace *, const char *))
{
	const char *obj = pk_event_str(d, d->object), *p = line;
	char path[PATH_MAX];
	struct expand x = {.t = t, .line = line, .add = add};
	size_t k;
	int err;

	/* "p[N][:...]" up to the name; the probe point; the fetch arguments after it. */
	while (*p == ' ' || *p == '\t')
		p++;
	k = strspn(p, "pr0123456789");
	snprintf(x.kind, sizeof(x.kind), "%.*s", (int)(k < sizeof(x.kind) ? k : 0), p);
	p += strcspn(p, " \t");
	p += strspn(p, " \t");
	x.rest = p + strcspn(p, " \t");
	x.glob = pk_event_str(d, d->symbol);
	x.objspec = obj;
	x.group = strcmp(d->group, PK_EV_DEFAULT_GROUP) ? d->group : "";
	err = find_object(*obj ? obj : exe ? exe : "", exe, path, sizeof(path));
	if (err) {
		fprintf(stderr,
			"probekit trace: %s: cannot find %s to expand '%s' (%s): give its path, as "
			"in 'p /usr/lib/" ARCH_MULTIARCH "/%s:%s'\n",
			line, *obj ? obj : "the program", x.glob, strerror(-err),
			*obj ? obj : "prog", x.glob);
		return err;
	}
	err = pk_sym_file_foreach(path, one, &x);
	/* add() has said what was wrong with a definition; the file's own errors are said here. */
	if (err && !x.n) {
		fprintf(stderr, "probekit trace: %s: cannot read the functions of %s: %s\n", line,
			path, strerror(-err));
		return err;
	}
	if (err)
		return err;
	if (!x.n) {
		fprintf(stderr,
			"probekit trace: %s: no function of %s matches '%s' (probekit list -x %s "
			"lists them)\n",
			line, path, x.glob, path);
		return -ENOENT;
	}
	return 0;
}
