// SPDX-License-Identifier: MIT
/* The JSON event object and the profile table, shared by both tracers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/output.h"
#include "events/events.h"

static void json_string(FILE *f, const char *s)
{
	size_t n = strlen(s);
	char small[256], *buf = 6 * n + 1 <= sizeof(small) ? small : malloc(6 * n + 1);

	fputc('"', f);
	if (buf) {
		pk_event_json_escape(s, n, buf, 6 * n + 1);
		fputs(buf, f);
		if (buf != small)
			free(buf);
	}
	fputc('"', f);
}

void pk_out_json_event(FILE *f, const struct pk_out_event *e)
{
	fputs("{\"task\":", f);
	json_string(f, e->task);
	fprintf(f, ",\"pid\":%u,\"tid\":%u,\"cpu\":%u,\"timestamp\":%llu.%06u,\"group\":", e->pid,
		e->tid, e->cpu, e->sec, e->usec);
	json_string(f, e->group);
	fputs(",\"event\":", f);
	json_string(f, e->event);
	fputs(",\"probe\":", f);
	json_string(f, e->probe);
	fprintf(f, ",\"args\":{%s}}\n", e->args);
}

void pk_out_profile_head(FILE *f)
{
	fprintf(f, "%-40s %12s %12s %12s %12s\n", "# event", "hits", "missed", "lost", "filtered");
}

static void count(FILE *f, long long n)
{
	if (n < 0)
		fprintf(f, " %12s", "-");
	else
		fprintf(f, " %12lld", n);
}

void pk_out_profile_row(FILE *f, const char *name, long long hits, long long missed, long long lost,
			long long filtered)
{
	fprintf(f, "%-40s", name);
	count(f, hits);
	count(f, missed);
	count(f, lost);
	count(f, filtered);
	fputc('\n', f);
}

int pk_cli_read_defs(const char *path, int (*add)(void *ctx, const char *line), void *ctx)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char line[PK_EV_MAX_LINE];
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "probekit trace: %s: %s\n", path, strerror(-err));
		return err;
	}
	while (!err && fgets(line, sizeof(line), f)) {
		char *s = line, *end;

		line[strcspn(line, "\n")] = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		end = s + strlen(s);
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = 0;
		err = add(ctx, s);
	}
	if (f != stdin)
		fclose(f);
	return err;
}

int pk_cli_deletes(const char *dgroup, const char *devent, const char *group, const char *event)
{
	return (!dgroup[0] || !strcmp(dgroup, group)) && (!devent[0] || !strcmp(devent, event));
}

int pk_cli_no_such_event(const char *line)
{
	fprintf(stderr,
		"probekit trace: '%s': no such event (%s): a deletion removes an event defined "
		"before it in the same list; check the name against the definitions\n",
		line, strerror(ENOENT));
	return -ENOENT;
}

double pk_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

volatile sig_atomic_t pk_cli_stop;

static void on_stop(int sig)
{
	(void)sig;
	pk_cli_stop = 1;
}

static void on_child(int sig)
{
	(void)sig;
}

void pk_cli_catch_signals(int hup)
{
	/* Without SA_RESTART: a wait for the ring or the command ends at once. */
	struct sigaction sa = {.sa_handler = on_child};

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hup)
		sigaction(SIGHUP, &sa, NULL);
}

int pk_cli_parse_format(const char *arg)
{
	if (!strcmp(arg, "json"))
		return 1;
	if (!strcmp(arg, "text"))
		return 0;
	fprintf(stderr, "probekit trace: --format is text or json\n");
	return -EINVAL;
}

double pk_cli_parse_seconds(const char *arg)
{
	char *end;
	double d = strtod(arg, &end);

	if (*end || !(d > 0)) {
		fprintf(stderr, "probekit trace: -d takes a number of seconds\n");
		return -1;
	}
	return d;
}
