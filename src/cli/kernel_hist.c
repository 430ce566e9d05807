// SPDX-License-Identifier: MIT
/*
 * --trigger and --synthetic for the kernel backend: synthetic events go to
 * tracefs's synthetic_events (there is one list for the whole system), hist
 * triggers to the `trigger` file of their event in our instance, and at the
 * end each event's `hist` file is printed as the user-space tracer prints
 * its own. Everything is taken back in the reverse order: triggers (the
 * later may use the earlier's variables), then synthetic events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/kernel_hist.h"
#include "cli/tracefs.h"

static int push(char ***list, unsigned int *n, const char *s)
{
	char **l = realloc(*list, (*n + 1) * sizeof(*l));

	if (l)
		*list = l;
	if (!l || !(l[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

int pk_khist_add_synthetic(struct pk_khist *k, const char *spec)
{
	return push(&k->synth, &k->nsynth, spec);
}

int pk_khist_add_trigger(struct pk_khist *k, const char *arg)
{
	return push(&k->trig, &k->ntrig, arg);
}

/* The kernel's error_log entries since @before, or @what's errno. */
static void say(const char *log_rel, const char *before, const char *what, int err)
{
	char msg[8192];

	if (pk_error_log_new(log_rel, before, msg, sizeof(msg)) > 0)
		fputs(msg, stderr);
	else
		fprintf(stderr, "probekit trace: the kernel refused '%s': %s\n", what,
			strerror(-err));
}

/* Whether tracefs's README documents hist triggers, as a kernel with them does. */
static int has_hist(void)
{
	char *readme = NULL;
	int yes;

	pk_tracefs_read("README", &readme, NULL);
	yes = readme && strstr(readme, "hist:keys=");
	free(readme);
	return yes;
}

int pk_khist_setup(struct pk_khist *k, const char *inst_rel,
		   int (*event_of)(void *ctx, const char *name, size_t len, char *group,
				   char *event),
		   void *ctx)
{
	char rel[512], group[64], event[64];
	unsigned int i;
	int err;

	for (i = 0; i < k->nsynth; i++) {
		char *log = NULL;

		pk_tracefs_read("error_log", &log, NULL);
		err = pk_tracefs_write("synthetic_events", k->synth[i], 1);
		if (err) {
			say("error_log", log, k->synth[i], err);
			free(log);
			return err;
		}
		free(log);
		k->nsynth_made = i + 1;
	}
	for (i = 0; i < k->ntrig; i++) {
		const char *arg = k->trig[i], *colon = strchr(arg, ':'), *text;
		char *log = NULL, lrel[256];

		if (!colon) {
			fprintf(stderr, "probekit trace: --trigger takes 'EVENT: hist:...'\n");
			return -EINVAL;
		}
		for (text = colon + 1; *text == ' ' || *text == '\t'; text++)
			;
		if (event_of(ctx, arg, (size_t)(colon - arg), group, event)) {
			fprintf(stderr, "probekit trace: --trigger: no event '%.*s'\n",
				(int)(colon - arg), arg);
			return -ENOENT;
		}
		snprintf(lrel, sizeof(lrel), "%s/error_log", inst_rel);
		pk_tracefs_read(lrel, &log, NULL);
		snprintf(rel, sizeof(rel), "%s/events/%s/%s/trigger", inst_rel, group, event);
		err = pk_tracefs_write(rel, text, 1);
		if (err) {
			say(lrel, log, text, err);
			free(log);
			if (!has_hist())
				fprintf(stderr,
					"probekit trace: this kernel has no hist triggers "
					"(CONFIG_HIST_TRIGGERS); without --kernel they work\n");
			return err;
		}
		free(log);
		snprintf(rel, sizeof(rel), "%s/events/%s/%s", inst_rel, group, event);
		if (!(k->dirs = realloc(k->dirs, (i + 1) * sizeof(*k->dirs))) ||
		    !(k->dirs[i] = strdup(rel)))
			return -ENOMEM;
		k->ntrig_made = i + 1;
	}
	/* A synthetic event without trigger is printed: enabled, as a probe event is. */
	for (i = 0; i < k->nsynth; i++) {
		char name[64];
		unsigned int j;
		int used = 0;

		if (sscanf(k->synth[i], " %63[A-Za-z0-9_]", name) != 1)
			continue;
		snprintf(rel, sizeof(rel), "%s/events/synthetic/%s", inst_rel, name);
		for (j = 0; j < k->ntrig_made; j++)
			used |= !strcmp(k->dirs[j], rel);
		if (used)
			continue;
		strncat(rel, "/enable", sizeof(rel) - strlen(rel) - 1);
		pk_tracefs_write(rel, "1", 0);
	}
	return 0;
}

int pk_khist_aggregates(const struct pk_khist *k, const char *inst_rel, const char *group,
			const char *event)
{
	char rel[512];
	unsigned int i;

	snprintf(rel, sizeof(rel), "%s/events/%s/%s", inst_rel, group, event);
	for (i = 0; i < k->ntrig_made; i++)
		if (!strcmp(k->dirs[i], rel))
			return 1;
	return 0;
}

void pk_khist_print(struct pk_khist *k, FILE *f)
{
	unsigned int i, j, nfiles = 0, shown = 0;

	for (i = 0; i < k->ntrig_made; i++) {
		for (j = 0; j < i && strcmp(k->dirs[j], k->dirs[i]); j++)
			;
		nfiles += j == i;
	}
	for (i = 0; i < k->ntrig_made; i++) {
		char rel[600], *text = NULL;
		const char *ev;

		for (j = 0; j < i && strcmp(k->dirs[j], k->dirs[i]); j++)
			;
		if (j < i)
			continue;
		snprintf(rel, sizeof(rel), "%s/hist", k->dirs[i]);
		if (pk_tracefs_read(rel, &text, NULL))
			continue;
		ev = strstr(k->dirs[i], "/events/");
		if (nfiles > 1)
			fprintf(f, "%s==> %s/hist <==\n", shown++ ? "\n" : "", ev ? ev + 1 : rel);
		fputs(text, f);
		free(text);
	}
	fflush(f);
}

void pk_khist_undo_triggers(struct pk_khist *k)
{
	while (k->ntrig_made) {
		const char *arg = k->trig[--k->ntrig_made], *text = strchr(arg, ':') + 1;
		char rel[600], *undo;

		while (*text == ' ' || *text == '\t')
			text++;
		snprintf(rel, sizeof(rel), "%s/trigger", k->dirs[k->ntrig_made]);
		if (asprintf(&undo, "!%s", text) >= 0) {
			pk_tracefs_write(rel, undo, 1);
			free(undo);
		}
	}
}

void pk_khist_cleanup(struct pk_khist *k)
{
	unsigned int i;

	pk_khist_undo_triggers(k);
	while (k->nsynth_made) {
		char name[64], undo[80];

		if (sscanf(k->synth[--k->nsynth_made], " %63[A-Za-z0-9_]", name) == 1) {
			snprintf(undo, sizeof(undo), "!%s", name);
			if (pk_tracefs_write("synthetic_events", undo, 1))
				fprintf(stderr, "probekit trace: cannot delete synthetic/%s\n",
					name);
		}
	}
	for (i = 0; i < k->ntrig; i++)
		free(k->trig[i]);
	for (i = 0; i < k->nsynth; i++)
		free(k->synth[i]);
	free(k->trig);
	free(k->synth);
	free(k->dirs);
	memset(k, 0, sizeof(*k));
}

int pk_is_trigger_line(const char *line)
{
	size_t n =
	    strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.");

	if (!n || line[n] != ':')
		return 0;
	line += n + 1;
	line += strspn(line, " \t");
	return !strncmp(line, "hist:", 5) || !strncmp(line, "stacktrace", 10);
}
