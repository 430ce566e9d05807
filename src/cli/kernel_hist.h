/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend's hist triggers and synthetic events: the same
 * --trigger and --synthetic text as the user-space tracer takes, written to
 * tracefs, and the kernel's `hist` files printed at the end.
 */
#ifndef PK_CLI_KERNEL_HIST_H
#define PK_CLI_KERNEL_HIST_H

#include <stddef.h>
#include <stdio.h>

struct pk_khist {
	char **synth; /* --synthetic, as given */
	unsigned int nsynth, nsynth_made;
	char **trig; /* --trigger and -e trigger lines, as given */
	unsigned int ntrig, ntrig_made;
	char **dirs; /* each trigger's event directory, under tracefs */
};

/* Keep @spec / @arg for pk_khist_setup(). 0 or -ENOMEM. */
int pk_khist_add_synthetic(struct pk_khist *k, const char *spec);
int pk_khist_add_trigger(struct pk_khist *k, const char *arg);

/*
 * pk_khist_setup() - the synthetic events, then each trigger on its event
 * of the instance @inst_rel ("instances/NAME"). @event_of names the event
 * of a trigger's "[GROUP/]EVENT" (@len bytes of @name) into @group and
 * @event (64 bytes each): 0, or -ENOENT. The kernel's refusals are said on
 * stderr from its error_log. Return: 0, or the first -errno.
 */
int pk_khist_setup(struct pk_khist *k, const char *inst_rel,
		   int (*event_of)(void *ctx, const char *name, size_t len, char *group,
				   char *event),
		   void *ctx);

/* Whether @group/@event of @inst_rel got a trigger. */
int pk_khist_aggregates(const struct pk_khist *k, const char *inst_rel, const char *group,
			const char *event);

/* Each event's hist file, headed as head(1) when there are several. */
void pk_khist_print(struct pk_khist *k, FILE *f);

/* Remove the triggers made (before the instance goes). */
void pk_khist_undo_triggers(struct pk_khist *k);

/* Remove the triggers and the synthetic events made, and forget everything. */
void pk_khist_cleanup(struct pk_khist *k);

/*
 * Whether the line @line of a definitions file is a trigger
 * ("[GROUP/]EVENT: hist:..." or "...: stacktrace"), not a definition.
 */
int pk_is_trigger_line(const char *line);

#endif
