// SPDX-License-Identifier: MIT
/*
 * probekit trace --kernel: the same definitions handed to the kernel's own
 * probes through tracefs (kprobe_events for kernel functions, uprobe_events
 * for PATH:OFFSET and PATH:SYM), enabled in an instance of our own, and that
 * instance's trace_pipe streamed to the output.
 *
 * What a run creates is written down first, in /run/probekit/kernel-PID (the
 * pid and its start time, the instance, each event before it is created), so
 * that a run killed with SIGKILL can be cleaned up by the next one: a state
 * file whose owner no longer runs names everything there is to remove.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/kernel_hist.h"
#include "cli/kline.h"
#include "cli/output.h"
#include "cli/probe_cli.h"
#include "cli/tracefs.h"
#include "events/events.h"
#include "internal.h"
#include "sbuf.h"
#include "sym/sym.h"

#define STATE_DIR    "/run/probekit"
#define INST_PREFIX  "probekit-"
#define STOP_GRACE_S 5

struct kdef {
	char *given; /* the definition as given */
	char *line;  /* as written to the kernel */
	char group[PK_EV_NAME_SIZE];
	char event[PK_EV_NAME_SIZE];
	char *path; /* uprobes: the file as written (uprobe_profile shows it) */
	int uprobe;
	int nopoint; /* no probe point: the kernel's error comes from either file */
	int created;
	int filtered;		  /* a --filter applies */
	struct pk_kformat format; /* JSON: the arguments, from the format file */
	unsigned long long printed;
	long long hits;
	long long missed;
};

struct ktrace {
	const char *out_path;
	int json;
	double duration;
	unsigned long buffer_kb;
	const char **filters;
	unsigned int nfilters;
	struct kdef *defs;
	unsigned int ndefs;
	char inst[64];	    /* "probekit-PID" */
	char inst_rel[128]; /* "instances/probekit-PID" */
	char state[128];
	int state_fd;
	int pipe_fd;
	FILE *out;
	char *pend; /* a line trace_pipe has not finished yet */
	size_t npend;
	size_t cappend;
	char *jbuf; /* JSON arguments of one event */
	size_t jcap;
	int tree;	      /* --tree: only the command's processes */
	pid_t child;	      /* with --tree, started before the events are on */
	int gate;	      /* and held until then: its end of the pipe, or -1 */
	struct pk_khist hist; /* --trigger, --synthetic */
	int stack;	      /* --stack: the kernel's userstacktrace */
	struct kdef *last;    /* the event of the last line, for its stack */
};

static void ktrace_usage(FILE *f)
{
	fprintf(f,
		"usage: probekit trace --kernel [OPTIONS] DEF... [-- COMMAND [ARG...]]\n"
		"\n"
		"The definitions go to the kernel's own probes (tracefs kprobe_events and\n"
		"uprobe_events), in an instance of their own that is removed at the end;\n"
		"events are system-wide, as the kernel records them. DEF is\n"
		"  'p[:[GRP/]EVENT] SYM[+offs]|ADDR [FETCHARGS]'    a kernel function (kprobe)\n"
		"  'r[N][:[GRP/]EVENT] SYM[+0] [FETCHARGS]'         its return (kretprobe)\n"
		"  'p[:[GRP/]EVENT] PATH:OFFSET|PATH:SYM[+offs] [FETCHARGS]'  a program (uprobe;\n"
		"                     SYM is looked up in PATH's symbols), 'r' for its return\n"
		"  '-:[GRP/]EVENT'    drops an event defined earlier in the list\n"
		"\n"
		"With COMMAND: runs it and stops when it exits (the exit status is its own);\n"
		"without: runs until Ctrl-C, SIGTERM or -d.\n"
		"\n"
		"options:\n"
		"  -e FILE            read definitions from FILE, one per line, '#' comments\n"
		"  -x BIN --probe DEF  perf probe's language on BIN's DWARF ('probekit probe -h')\n"
		"  -o FILE            write events to FILE instead of standard output\n"
		"      --format FMT   text (trace_pipe's lines, the default) or json\n"
		"  -d SECONDS         stop after SECONDS (COMMAND is then terminated)\n"
		"      --buffer-size N  the instance's buffer_size_kb (KiB per CPU)\n"
		"      --filter 'EVENT: EXPR'  the kernel's event filter, written to EVENT's\n"
		"                     filter file in the instance; may be repeated\n"
		"      --trigger 'EVENT: hist:...'  a hist trigger, written to EVENT's trigger\n"
		"                     file in the instance (also -e lines 'EVENT: hist:...');\n"
		"                     EVENT's hist file is printed at the end and on SIGUSR1\n"
		"      --synthetic 'NAME TYPE FIELD[; ...]'  a synthetic event, added to\n"
		"                     synthetic_events and removed at the end\n"
		"      --stack        after each event, the user stack: the instance's\n"
		"                     userstacktrace and sym-userobj options\n"
		"      --tree         only the events of COMMAND's processes: it and every\n"
		"                     process it forks (set_event_pid, event-fork), as perf\n"
		"  -h, --help         this text\n"
		"\n"
		"The per-event profile (hits, missed, lost) goes to standard error at the end.\n");
}

/* ---- definitions ---- */

static const char *next_word(const char **p, size_t *len)
{
	const char *s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '#')
		return NULL;
	w = s;
	while (*s && *s != ' ' && *s != '\t' && *s != '#')
		s++;
	*len = (size_t)(s - w);
	*p = s;
	return w;
}

static void print_error(const char *line, enum pk_ev_err cause, unsigned int word, int offset)
{
	struct pk_event_error err;
	char report[PK_EV_MAX_LINE * 2 + 256];

	pk_event_error_set(&err, line, cause, word, offset);
	pk_event_error_print(&err, report, sizeof(report));
	fputs(report, stderr);
}

/* Is @add bytes into the function at file offset @off of @file an instruction boundary? */
static int check_boundary(const char *file, uint64_t off, uint64_t add)
{
	size_t n = (size_t)add + 16, got = 0;
	uint8_t *code;
	ssize_t r;
	int fd, err;

	if (add > (1u << 24))
		return -EILSEQ;
	code = calloc(1, n);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (!code || fd < 0) {
		free(code);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	while (got < n && (r = pread(fd, code + got, n - got, (off_t)(off + got))) > 0)
		got += (size_t)r;
	close(fd);
	err = got > add ? arch_code_boundary(code, got, (size_t)add) : -EILSEQ;
	free(code);
	return err;
}

/*
 * "PATH:SYM[+OFFS][%return]" -> "PATH:0xOFFSET[%return]": uprobe_events takes
 * only file offsets. @out gets the probe point to write.
 */
static int resolve_uprobe_point(const char *given, const char *w1, size_t l1, char *out,
				size_t size, char **path)
{
	const char *colon = NULL, *sym, *p;
	char file[PATH_MAX], name[512];
	unsigned long long add = 0;
	uint64_t off;
	size_t i;
	int err;

	for (i = 0; i < l1; i++)
		if (w1[i] == ':')
			colon = w1 + i;
	if (!colon || (size_t)(colon - w1) >= sizeof(file)) {
		snprintf(out, size, "%.*s", (int)l1, w1);
		return 0;
	}
	snprintf(file, sizeof(file), "%.*s", (int)(colon - w1), w1);
	*path = strdup(file);
	sym = colon + 1;
	if (isdigit((unsigned char)*sym) || sym == w1 + l1) {
		snprintf(out, size, "%.*s", (int)l1, w1);
		return 0;
	}
	for (p = sym; p < w1 + l1 && *p != '+' && *p != '%'; p++)
		;
	if ((size_t)(p - sym) >= sizeof(name)) {
		print_error(given, PK_EVERR_BAD_PROBE_ADDR, 1, (int)(sym - w1));
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(p - sym), sym);
	if (*p == '+') {
		char num[32], *end;
		const char *q = p + 1;

		while (q < w1 + l1 && *q != '%')
			q++;
		snprintf(num, sizeof(num), "%.*s", (int)(q - p - 1), p + 1);
		add = strtoull(num, &end, 0);
		if (!num[0] || *end) {
			print_error(given, PK_EVERR_BAD_PROBE_ADDR, 1, (int)(p + 1 - w1));
			return -EINVAL;
		}
		p = q;
	}
	err = pk_sym_file_offset(file, name, &off, NULL);
	if (!err && add)
		err = check_boundary(file, off, add);
	if (err == -EILSEQ) {
		/* The kernel would plant its breakpoint there and the program would die of it. */
		print_error(given, PK_EVERR_BAD_INSN_BNDRY, 1, 0);
		return err;
	}
	if (err == -EOPNOTSUPP) {
		fprintf(stderr,
			"probekit trace: %s: %s is an IFUNC, whose implementation is chosen when "
			"the program runs: probe the implementation by its own name\n",
			file, name);
		return err;
	}
	if (err) {
		if (err == -ENOENT && access(file, F_OK))
			print_error(given, PK_EVERR_FILE_NOT_FOUND, 1, 0);
		else
			print_error(given, PK_EVERR_BAD_PROBE_ADDR, 1, (int)(sym - w1));
		if (err != -ENOENT)
			fprintf(stderr, "  (%s)\n", strerror(-err));
		return err;
	}
	snprintf(out, size, "%s:0x%llx%.*s", file, (unsigned long long)(off + add),
		 (int)(w1 + l1 - p), p);
	return 0;
}

static struct kdef *new_def(struct ktrace *kt)
{
	struct kdef *grown = realloc(kt->defs, (kt->ndefs + 1) * sizeof(*kt->defs));

	if (!grown)
		return NULL;
	kt->defs = grown;
	memset(&kt->defs[kt->ndefs], 0, sizeof(*kt->defs));
	kt->defs[kt->ndefs].hits = PK_OUT_UNKNOWN;
	kt->defs[kt->ndefs].missed = PK_OUT_UNKNOWN;
	return &kt->defs[kt->ndefs];
}

static void free_def(struct kdef *d)
{
	pk_kformat_free(&d->format);
	free(d->given);
	free(d->line);
	free(d->path);
}

/* "-:[GRP/]EVENT": drops the events of the list it names, as the user-space tracer does. */
static int drop_defs(struct ktrace *kt, const char *line)
{
	struct pk_event_def *pd = malloc(sizeof(*pd));
	struct pk_event_error err;
	char report[PK_EV_MAX_LINE * 2 + 256];
	unsigned int i, before = kt->ndefs;

	if (!pd)
		return -ENOMEM;
	if (pk_event_parse(pd, line, &err)) {
		pk_event_error_print(&err, report, sizeof(report));
		fputs(report, stderr);
		free(pd);
		return -EINVAL;
	}
	for (i = 0; i < kt->ndefs; i++) {
		if (!pk_cli_deletes(pd->group, pd->event, kt->defs[i].group, kt->defs[i].event))
			continue;
		free_def(&kt->defs[i]);
		memmove(&kt->defs[i], &kt->defs[i + 1], (kt->ndefs - i - 1) * sizeof(*kt->defs));
		kt->ndefs--;
		i--;
	}
	free(pd);
	return kt->ndefs < before ? 0 : pk_cli_no_such_event(line);
}

/*
 * The event's group and name as the kernel will have them: given, or made
 * up as the kernel (and the user-space tracer) makes them up, so that the
 * events can be enabled by name. The group defaults to the kernel's.
 */
static int name_def(struct kdef *d, const char *w0, size_t l0, const char *w1, size_t l1)
{
	const char *colon = memchr(w0, ':', l0), *name, *slash = NULL;
	struct pk_event_def *pd;
	char head[PK_EV_MAX_LINE];
	size_t i, nl;

	snprintf(d->group, sizeof(d->group), "%s", d->uprobe ? "uprobes" : "kprobes");
	name = colon ? colon + 1 : w0 + l0;
	nl = (size_t)(w0 + l0 - name);
	for (i = 0; i < nl; i++)
		if (name[i] == '/' || name[i] == '.')
			slash = name + i;
	if (slash) {
		if ((size_t)(slash - name) >= sizeof(d->group))
			return -ENAMETOOLONG;
		snprintf(d->group, sizeof(d->group), "%.*s", (int)(slash - name), name);
		nl -= (size_t)(slash + 1 - name);
		name = slash + 1;
	}
	if (nl) {
		if (nl >= sizeof(d->event))
			return -ENAMETOOLONG;
		snprintf(d->event, sizeof(d->event), "%.*s", (int)nl, name);
		return 0;
	}
	/* The name the user-space tracer would make up for the same words. */
	pd = malloc(sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	snprintf(head, sizeof(head), "%c %.*s", w0[0], (int)l1, w1);
	if (pk_event_parse(pd, head, NULL)) {
		free(pd);
		return -EINVAL;
	}
	snprintf(d->event, sizeof(d->event), "%s", pd->event);
	free(pd);
	return 0;
}

static int add_kdef(struct ktrace *kt, const char *given)
{
	const char *p = given, *w0, *w1, *rest;
	char point[PATH_MAX + 64];
	size_t l0, l1 = 0, n, maxact;
	struct kdef *d;
	int err;

	w0 = next_word(&p, &l0);
	if (!w0)
		return 0;
	if (w0[0] == '-')
		return drop_defs(kt, given);
	d = new_def(kt);
	if (!d)
		return -ENOMEM;
	d->given = strdup(given);
	w1 = next_word(&p, &l1);
	rest = p;
	/* A line that is not "p" or "r" with a probe point goes as it is: the kernel says why not.
	 */
	if ((w0[0] != 'p' && w0[0] != 'r') || !w1) {
		d->line = strdup(given);
		d->uprobe = w1 && memchr(w1, '/', l1) != NULL;
		d->nopoint = !w1;
		kt->ndefs++;
		return 0;
	}
	d->uprobe = memchr(w1, '/', l1) != NULL;
	if (d->uprobe) {
		err = resolve_uprobe_point(given, w1, l1, point, sizeof(point), &d->path);
		if (err) {
			free_def(d);
			return err;
		}
	} else {
		snprintf(point, sizeof(point), "%.*s", (int)l1, w1);
	}
	err = name_def(d, w0, l0, w1, l1);
	if (err) {
		/* The kernel refuses the name, or a form only it knows: let it say which. */
		d->line = strdup(given);
		d->event[0] = 0;
		kt->ndefs++;
		return 0;
	}
	/*
	 * "r10" keeps its maxactive on a kprobe. A uprobe has none, and with
	 * one the kernel ignores the event name given after it.
	 */
	for (maxact = 1; maxact < l0 && isdigit((unsigned char)w0[maxact]); maxact++)
		;
	if (d->uprobe)
		maxact = 1;
	n = (size_t)snprintf(NULL, 0, "%.*s:%s/%s %s%s", (int)maxact, w0, d->group, d->event, point,
			     rest);
	d->line = malloc(n + 1);
	if (d->line)
		snprintf(d->line, n + 1, "%.*s:%s/%s %s%s", (int)maxact, w0, d->group, d->event,
			 point, rest);
	if (!d->line || !d->given) {
		free_def(d);
		return -ENOMEM;
	}
	kt->ndefs++;
	return 0;
}

static int add_kdef_line(void *kt, const char *line)
{
	if (pk_is_trigger_line(line))
		return pk_khist_add_trigger(&((struct ktrace *)kt)->hist, line);
	return add_kdef(kt, line);
}

static int read_kdef_file(struct ktrace *kt, const char *path)
{
	return pk_cli_read_defs(path, add_kdef_line, kt);
}

/* ---- what this kernel has ---- */

static const char *events_file(int uprobe)
{
	return uprobe ? "uprobe_events" : "kprobe_events";
}

/* Says plainly why there are no kprobe (or uprobe) events here; returns 1 if so. */
static int lacks_probes(int uprobe)
{
	static const char *const kopts[] = {"CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS", NULL};
	static const char *const uopts[] = {"CONFIG_UPROBES", "CONFIG_UPROBE_EVENTS", NULL};
	char path[256];

	if (pk_tracefs_exists(events_file(uprobe)))
		return 0;
	pk_kernel_say_missing("trace", uprobe ? "uprobe events" : "kprobe events",
			      uprobe ? uopts : kopts,
			      pk_tracefs_path(path, sizeof(path), events_file(uprobe)));
	return 1;
}

/* ---- state files and what dead runs left ---- */

/* The start time of @pid in clock ticks since boot, 0 if there is no such process. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], *buf, *p;
	unsigned long long t = 0;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pk_file_read(path, &buf, NULL))
		return 0;
	/* After the command name, which may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	for (i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(buf);
	return t;
}

/* Disables and removes the instance, then deletes the events it had. */
static void remove_instance(const char *inst)
{
	char rel[256], path[512];
	int i;

	snprintf(rel, sizeof(rel), "instances/%s", inst);
	if (!pk_tracefs_exists(rel))
		return;
	snprintf(rel, sizeof(rel), "instances/%s/events/enable", inst);
	pk_tracefs_write(rel, "0", 0);
	snprintf(rel, sizeof(rel), "instances/%s", inst);
	/* A reader that has just closed trace_pipe may hold it for a moment. */
	for (i = 0; i < 50; i++) {
		if (!rmdir(pk_tracefs_path(path, sizeof(path), rel)) || errno != EBUSY)
			break;
		usleep(20000);
	}
}

static int delete_event(int uprobe, const char *group, const char *event)
{
	char cmd[2 * PK_EV_NAME_SIZE + 4];

	snprintf(cmd, sizeof(cmd), "-:%s/%s", group, event);
	return pk_tracefs_write(events_file(uprobe), cmd, 1);
}

/*
 * What the state file of a dead run lists: its instance first (an event
 * enabled anywhere cannot be deleted), then its events; the file last.
 * Returns how many events went; @names lists them.
 */
static int remove_recorded(const char *state, char *names, size_t size)
{
	struct pk_sbuf o = {names, size, 0};
	char *buf, *line, *nl;
	int removed = 0, pass;

	if (pk_file_read(state, &buf, NULL))
		return 0;
	for (pass = 0; pass < 2; pass++) {
		for (line = buf; *line; line = nl + 1) {
			char kind[16], group[PK_EV_NAME_SIZE], event[PK_EV_NAME_SIZE];

			nl = strchr(line, '\n');
			if (!nl)
				break;
			*nl = 0;
			if (pass == 0 && sscanf(line, "instance %63s", event) == 1)
				remove_instance(event);
			if (pass == 1 &&
			    sscanf(line, "%15s %63[^/]/%63s", kind, group, event) == 3 &&
			    (!strcmp(kind, "uprobe") || !strcmp(kind, "kprobe")) &&
			    !delete_event(!strcmp(kind, "uprobe"), group, event)) {
				pk_sbuf_puts(&o, removed ? ", " : "");
				pk_sbuf_puts(&o, group);
				pk_sbuf_putc(&o, '/');
				pk_sbuf_puts(&o, event);
				removed++;
			}
			*nl = '\n';
		}
	}
	free(buf);
	pk_sbuf_finish(&o);
	unlink(state);
	return removed;
}

/* Is the run whose state file is @state still going? */
static int owner_alive(const char *state, pid_t *pid)
{
	unsigned long long t = 0;
	char *buf;
	int p = 0;

	if (pk_file_read(state, &buf, NULL))
		return 1; /* cannot tell: leave it */
	sscanf(buf, "pid %d %llu", &p, &t);
	free(buf);
	*pid = p;
	return p > 0 && t && start_time(p) == t;
}

/* A process that is a probekit, for an instance without state file. */
static int is_probekit(pid_t pid)
{
	char path[64], *buf;
	int yes;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (pk_file_read(path, &buf, NULL))
		return 0;
	yes = !strcmp(buf, "probekit\n");
	free(buf);
	return yes;
}

/* Removes what runs killed before they could clean up left behind. */
static void remove_leftovers(void)
{
	char path[512], names[1024], state[300];
	struct dirent *de;
	DIR *dir;
	pid_t pid;
	int n;

	dir = opendir(STATE_DIR);
	while (dir && (de = readdir(dir))) {
		if (strncmp(de->d_name, "kernel-", 7) ||
		    strspn(de->d_name + 7, "0123456789") != strlen(de->d_name + 7))
			continue;
		snprintf(state, sizeof(state), "%s/%s", STATE_DIR, de->d_name);
		if (owner_alive(state, &pid))
			continue;
		n = remove_recorded(state, names, sizeof(names));
		fprintf(
		    stderr,
		    "probekit trace: removed what a killed run (pid %d) left: instance " INST_PREFIX
		    "%d%s%s\n",
		    (int)pid, (int)pid, n ? ", events " : "", n ? names : "");
	}
	if (dir)
		closedir(dir);
	dir = opendir(pk_tracefs_path(path, sizeof(path), "instances"));
	while (dir && (de = readdir(dir))) {
		const char *num = de->d_name + strlen(INST_PREFIX);
		char *end;

		if (strncmp(de->d_name, INST_PREFIX, strlen(INST_PREFIX)) || !isdigit(*num))
			continue;
		pid = (pid_t)strtol(num, &end, 10);
		snprintf(state, sizeof(state), "%s/kernel-%d", STATE_DIR, (int)pid);
		if (*end || !access(state, F_OK) || (pid != getpid() && is_probekit(pid)))
			continue;
		remove_instance(de->d_name);
		fprintf(stderr, "probekit trace: removed the instance %s of a killed run\n",
			de->d_name);
	}
	if (dir)
		closedir(dir);
}

static void state_add(struct ktrace *kt, const char *fmt, const char *a, const char *b)
{
	char line[256];
	int n;

	if (kt->state_fd < 0)
		return;
	n = snprintf(line, sizeof(line), fmt, a, b);
	if (n > 0 && (size_t)n < sizeof(line) && write(kt->state_fd, line, (size_t)n) != n)
		fprintf(stderr, "probekit trace: %s: %s\n", kt->state, strerror(errno));
}

/*
 * The state file appears whole (pid, start time, instance) or not at all:
 * a run starting meanwhile must never read a half-written one as dead.
 */
static void state_begin(struct ktrace *kt)
{
	char tmp[160], head[160];
	int n, fd;

	/* A minimal system (an initramfs) may have no /run at all. */
	if (mkdir(STATE_DIR, 0755) && errno == ENOENT && !mkdir("/run", 0755))
		mkdir(STATE_DIR, 0755);
	snprintf(kt->state, sizeof(kt->state), "%s/kernel-%d", STATE_DIR, (int)getpid());
	snprintf(tmp, sizeof(tmp), "%s/.kernel-%d.tmp", STATE_DIR, (int)getpid());
	n = snprintf(head, sizeof(head), "pid %d %llu\ninstance %s\n", (int)getpid(),
		     start_time(getpid()), kt->inst);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0 && write(fd, head, (size_t)n) == n && !rename(tmp, kt->state)) {
		kt->state_fd = fd;
		return;
	}
	fprintf(stderr, "probekit trace: %s: %s (a killed run could not be cleaned up after)\n",
		kt->state, strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
}

/*
 * Everything this run made, in the order that lets each part go: the
 * reader, the instance, the events it created (only those: a name the
 * kernel refused may well be someone else's event), the state file.
 */
static void cleanup(struct ktrace *kt)
{
	unsigned int i;

	if (kt->pipe_fd >= 0) {
		close(kt->pipe_fd);
		kt->pipe_fd = -1;
	}
	pk_khist_undo_triggers(&kt->hist);
	if (kt->inst[0])
		remove_instance(kt->inst);
	for (i = 0; i < kt->ndefs; i++) {
		struct kdef *d = &kt->defs[i];
		int err = d->created ? delete_event(d->uprobe, d->group, d->event) : 0;

		if (err)
			fprintf(stderr, "probekit trace: cannot delete %s/%s: %s\n", d->group,
				d->event, strerror(-err));
	}
	pk_khist_cleanup(&kt->hist);
	if (kt->state_fd >= 0) {
		close(kt->state_fd);
		kt->state_fd = -1;
		unlink(kt->state);
	}
}

/* ---- creating the events ---- */

/* The event the kernel added, for a line whose name the kernel made up. */
static int learn_name(struct kdef *d, const char *before)
{
	char *after, *line, *save = NULL;
	int found = -ENOENT;

	if (pk_tracefs_read(events_file(d->uprobe), &after, NULL))
		return -EIO;
	for (line = strtok_r(after, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *hit = strstr(before, line);

		if (hit && (hit == before || hit[-1] == '\n'))
			continue;
		if (sscanf(line, "%*[pr]%*[0-9]:%63[^/]/%63s", d->group, d->event) == 2 ||
		    sscanf(line, "%*[pr]:%63[^/]/%63s", d->group, d->event) == 2) {
			found = 0;
			break;
		}
	}
	free(after);
	return found;
}

static int create_events(struct ktrace *kt)
{
	char msg[8192], rel[2 * PK_EV_NAME_SIZE + 16];
	unsigned int i;

	for (i = 0; i < kt->ndefs; i++) {
		struct kdef *d = &kt->defs[i];
		char *log = NULL, *before = NULL;
		int err, n;

		pk_tracefs_read("error_log", &log, NULL);
		pk_tracefs_read(events_file(d->uprobe), &before, NULL);
		/* Written down before it exists: a SIGKILL in between leaves nothing unnamed. */
		if (d->event[0])
			state_add(kt, d->uprobe ? "uprobe %s/%s\n" : "kprobe %s/%s\n", d->group,
				  d->event);
		err = pk_tracefs_write(events_file(d->uprobe), d->line, 1);
		if (err) {
			n = pk_error_log_new("error_log", log, msg, sizeof(msg));
			if (n > 0)
				fputs(msg, stderr);
			else
				fprintf(stderr, "probekit trace: the kernel refused '%s': %s\n",
					d->line, strerror(-err));
			free(log);
			free(before);
			return err;
		}
		free(log);
		/* A name the kernel made up, or one it chose to ignore: the new line says. */
		snprintf(rel, sizeof(rel), "events/%s/%s", d->group, d->event);
		if (!d->event[0] || !pk_tracefs_exists(rel)) {
			d->event[0] = 0;
			if (!learn_name(d, before ? before : ""))
				state_add(kt, d->uprobe ? "uprobe %s/%s\n" : "kprobe %s/%s\n",
					  d->group, d->event);
		}
		free(before);
		if (!d->event[0]) {
			fprintf(stderr, "probekit trace: cannot tell which event '%s' made\n",
				d->given);
			return -EIO;
		}
		d->created = 1;
	}
	return 0;
}

/* A trigger's "[GROUP/]EVENT": one of ours, or a synthetic event. */
static int trigger_event(void *arg, const char *name, size_t len, char *group, char *event)
{
	struct ktrace *kt = arg;
	const char *slash = memchr(name, '/', len);
	unsigned int i;

	for (i = 0; i < kt->ndefs; i++) {
		char full[2 * PK_EV_NAME_SIZE + 2];

		snprintf(full, sizeof(full), "%s/%s", kt->defs[i].group, kt->defs[i].event);
		if ((slash ? strlen(full) : strlen(kt->defs[i].event)) != len ||
		    memcmp(slash ? full : kt->defs[i].event, name, len))
			continue;
		snprintf(group, 64, "%s", kt->defs[i].group);
		snprintf(event, 64, "%s", kt->defs[i].event);
		return 0;
	}
	if (slash && (size_t)(slash - name) == 9 && !memcmp(name, "synthetic", 9)) {
		len -= 10;
		name = slash + 1;
	} else if (slash) {
		return -ENOENT;
	}
	for (i = 0; i < kt->hist.nsynth; i++) {
		char sname[64];

		if (sscanf(kt->hist.synth[i], " %63[A-Za-z0-9_]", sname) == 1 &&
		    strlen(sname) == len && !memcmp(sname, name, len)) {
			snprintf(group, 64, "synthetic");
			snprintf(event, 64, "%s", sname);
			return 0;
		}
	}
	return -ENOENT;
}

static int set_filters(struct ktrace *kt)
{
	char rel[512], msg[8192];
	unsigned int f, i;

	for (f = 0; f < kt->nfilters; f++) {
		const char *arg = kt->filters[f], *colon = strchr(arg, ':'), *expr;
		char name[2 * PK_EV_NAME_SIZE + 2];
		int found = 0;

		if (!colon || (size_t)(colon - arg) >= sizeof(name)) {
			fprintf(stderr, "probekit trace: --filter takes 'EVENT: EXPRESSION'\n");
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(colon - arg), arg);
		for (expr = colon + 1; *expr == ' '; expr++)
			;
		for (i = 0; i < kt->ndefs; i++) {
			struct kdef *d = &kt->defs[i];
			char full[2 * PK_EV_NAME_SIZE + 2], *log = NULL, *ferr = NULL;
			int err;

			snprintf(full, sizeof(full), "%s/%s", d->group, d->event);
			if (strcmp(name, d->event) && strcmp(name, full))
				continue;
			found = 1;
			snprintf(rel, sizeof(rel), "%s/error_log", kt->inst_rel);
			pk_tracefs_read(rel, &log, NULL);
			snprintf(rel, sizeof(rel), "%s/events/%s/filter", kt->inst_rel, full);
			err = pk_tracefs_write(rel, expr, 0);
			if (!err) {
				d->filtered = 1;
				free(log);
				continue;
			}
			/* The kernel's words: its error_log, else what the filter file says. */
			snprintf(rel, sizeof(rel), "%s/error_log", kt->inst_rel);
			if (pk_error_log_new(rel, log, msg, sizeof(msg)) > 0) {
				fputs(msg, stderr);
			} else {
				snprintf(rel, sizeof(rel), "%s/events/%s/filter", kt->inst_rel,
					 full);
				if (!pk_tracefs_read(rel, &ferr, NULL))
					fputs(ferr, stderr);
				fprintf(stderr,
					"probekit trace: the kernel refused the filter: %s\n",
					strerror(-err));
			}
			free(ferr);
			free(log);
			return err;
		}
		if (!found) {
			fprintf(stderr, "probekit trace: --filter: no event '%s'\n", name);
			return -ENOENT;
		}
	}
	return 0;
}

/* The instance's setting @file set to @value; says so when the kernel refuses, unless @quiet. */
static int inst_set(struct ktrace *kt, const char *file, const char *value, int quiet)
{
	char rel[512];
	int err;

	snprintf(rel, sizeof(rel), "%s/%s", kt->inst_rel, file);
	err = pk_tracefs_write(rel, value, 0);
	if (err && !quiet)
		fprintf(stderr, "probekit trace: %s/%s: %s: %s\n", PK_TRACEFS, rel, value,
			strerror(-err));
	return err;
}

static int enable_events(struct ktrace *kt, const char *on)
{
	char file[256];
	unsigned int i;
	int err;

	for (i = 0; i < kt->ndefs; i++) {
		/* An event with a hist trigger is on already, as the kernel's soft mode. */
		if (pk_khist_aggregates(&kt->hist, kt->inst_rel, kt->defs[i].group,
					kt->defs[i].event))
			continue;
		snprintf(file, sizeof(file), "events/%s/%s/enable", kt->defs[i].group,
			 kt->defs[i].event);
		err = inst_set(kt, file, on, 0);
		if (err)
			return err;
	}
	return 0;
}

/* ---- what the events print ---- */

static int read_format(struct ktrace *kt, struct kdef *d)
{
	char rel[512], *buf;
	int err;

	snprintf(rel, sizeof(rel), "%s/events/%s/%s/format", kt->inst_rel, d->group, d->event);
	err = pk_tracefs_read(rel, &buf, NULL);
	if (err)
		return err;
	err = pk_kformat_parse(buf, &d->format);
	free(buf);
	return err;
}

static struct kdef *def_of(struct ktrace *kt, const char *event, size_t len)
{
	unsigned int i;

	for (i = 0; i < kt->ndefs; i++)
		if (strlen(kt->defs[i].event) == len && !memcmp(kt->defs[i].event, event, len))
			return &kt->defs[i];
	return NULL;
}

static void print_json(struct ktrace *kt, struct kdef *d, const struct pk_kline *k, const char *end)
{
	char comm[64], probe[512];
	struct pk_out_event e;
	int n;

	while ((n = pk_kline_json_args(k, end, &d->format, kt->jbuf, kt->jcap)) >= 0 &&
	       (size_t)n >= kt->jcap) {
		char *grown = realloc(kt->jbuf, (size_t)n + 1);

		if (!grown)
			return;
		kt->jbuf = grown;
		kt->jcap = (size_t)n + 1;
	}
	snprintf(comm, sizeof(comm), "%.*s", (int)k->comm_len, k->comm);
	snprintf(probe, sizeof(probe), "%.*s", (int)k->probe_len, k->probe);
	e = (struct pk_out_event){
	    .task = comm,
	    .pid = k->tgid >= 0 ? (unsigned int)k->tgid : k->tid,
	    .tid = k->tid,
	    .cpu = k->cpu,
	    .sec = k->sec,
	    .usec = k->usec,
	    .group = d->group,
	    .event = d->event,
	    .probe = probe,
	    .args = kt->jbuf,
	};
	pk_out_json_event(kt->out, &e);
}

/*
 * The kernel learns a task's name at its next context switch, so events of
 * a task that has not switched since print "<...>". /proc still knows it
 * while the task lives (or, for the command, until it is waited for).
 */
static int name_task(const struct pk_kline *k, char *comm, size_t size)
{
	char path[64], *buf;

	if (k->comm_len != 5 || memcmp(k->comm, "<...>", 5))
		return 0;
	if (k->tgid >= 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%u/comm", k->tgid, k->tid);
	else
		snprintf(path, sizeof(path), "/proc/%u/comm", k->tid);
	if (pk_file_read(path, &buf, NULL))
		return 0;
	snprintf(comm, size, "%.*s", (int)strcspn(buf, "\n"), buf);
	free(buf);
	return comm[0] != 0;
}

static void on_line(struct ktrace *kt, char *s, size_t len)
{
	struct pk_kline k;
	struct kdef *d = NULL;
	char comm[64];

	if (!pk_kline_parse(s, len, &k)) {
		d = def_of(kt, k.event, k.event_len);
		/* --stack: the kernel's stack entry belongs to the event before it. */
		if (!d && kt->stack && k.event_len == 18 &&
		    !memcmp(k.event, "<user stack trace>", 18)) {
			d = kt->last;
		} else {
			kt->last = d;
			if (d)
				d->printed++;
		}
	}
	if (d && name_task(&k, comm, sizeof(comm))) {
		k.comm = comm;
		k.comm_len = strlen(comm);
		if (!kt->json) {
			/* The name right-aligned in 16 columns, as the kernel prints it. */
			const char *dash = memchr(s, '-', len);

			fprintf(kt->out, "%16s", comm);
			len -= (size_t)(dash - s);
			s = (char *)dash;
		}
	}
	if (kt->json) {
		if (d)
			print_json(kt, d, &k, s + len);
		return;
	}
	/* In the probed thread, in user mode, none of the flags holds: print them clear. */
	if (d && d->uprobe && pk_kline_flags_wrapped(&k))
		memset((char *)k.flags, '.', k.flags_len);
	fwrite(s, 1, len, kt->out);
	fputc('\n', kt->out);
}

/* Reads what trace_pipe has now; whole lines go out, a partial one waits. */
static void drain(struct ktrace *kt)
{
	char buf[65536];
	ssize_t r;

	while ((r = read(kt->pipe_fd, buf, sizeof(buf))) > 0) {
		size_t i, start = 0;

		if (kt->npend + (size_t)r > kt->cappend) {
			size_t cap = (kt->npend + (size_t)r) * 2;
			char *grown = realloc(kt->pend, cap);

			if (!grown)
				return;
			kt->pend = grown;
			kt->cappend = cap;
		}
		memcpy(kt->pend + kt->npend, buf, (size_t)r);
		kt->npend += (size_t)r;
		for (i = 0; i < kt->npend; i++) {
			if (kt->pend[i] != '\n')
				continue;
			on_line(kt, kt->pend + start, i - start);
			start = i + 1;
		}
		memmove(kt->pend, kt->pend + start, kt->npend - start);
		kt->npend -= start;
	}
	fflush(kt->out);
}

/* ---- the profile ---- */

static void read_profile(struct ktrace *kt, int uprobe)
{
	char *buf, *line, *save = NULL;
	unsigned int i;

	if (pk_tracefs_read(uprobe ? "uprobe_profile" : "kprobe_profile", &buf, NULL))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[64];
		int n = 0;
		char *w, *s2 = NULL;

		for (w = strtok_r(line, " \t", &s2); w && n < 64; w = strtok_r(NULL, " \t", &s2))
			tok[n++] = w;
		/* uprobes: "PATH EVENT HITS"; kprobes: "EVENT HITS MISSES". */
		if (n < 3)
			continue;
		for (i = 0; i < kt->ndefs; i++) {
			struct kdef *d = &kt->defs[i];

			if (!d->created || d->uprobe != uprobe)
				continue;
			if (uprobe && !strcmp(tok[n - 2], d->event) &&
			    (!d->path || !strcmp(tok[0], d->path)))
				d->hits = strtoll(tok[n - 1], NULL, 10);
			else if (!uprobe && !strcmp(tok[0], d->event)) {
				d->hits = strtoll(tok[1], NULL, 10);
				d->missed = strtoll(tok[2], NULL, 10);
			}
		}
	}
	free(buf);
}

/* Events the instance's buffer dropped or overwrote, over every CPU. */
static long long lost_events(struct ktrace *kt)
{
	char rel[512], *buf;
	long long lost = 0;
	int cpu;

	for (cpu = 0;; cpu++) {
		const char *p;

		snprintf(rel, sizeof(rel), "%s/per_cpu/cpu%d/stats", kt->inst_rel, cpu);
		if (pk_tracefs_read(rel, &buf, NULL))
			break;
		if ((p = strstr(buf, "\noverrun: ")) || (p = strstr(buf, "overrun: ")))
			lost += strtoll(strchr(p, ':') + 1, NULL, 10);
		if ((p = strstr(buf, "dropped events: ")))
			lost += strtoll(p + strlen("dropped events: "), NULL, 10);
		free(buf);
	}
	return lost;
}

static void print_kprofile(struct ktrace *kt, long long lost)
{
	long long h = 0, m = 0, f = 0;
	unsigned int i;

	pk_out_profile_head(stderr);
	for (i = 0; i < kt->ndefs; i++) {
		struct kdef *d = &kt->defs[i];
		/* Attributable when nothing was lost, or to the only event. */
		long long l = !lost ? 0 : kt->ndefs == 1 ? lost : PK_OUT_UNKNOWN;
		long long filt = 0;
		char name[2 * PK_EV_NAME_SIZE + 2];

		/* What the kernel counted but neither printed nor lost: the filter's. */
		if (d->filtered && (l < 0 || d->hits < 0))
			filt = PK_OUT_UNKNOWN;
		else if (d->filtered && d->hits - (long long)d->printed - l > 0)
			filt = d->hits - (long long)d->printed - l;
		snprintf(name, sizeof(name), "%s/%s", d->group, d->event);
		pk_out_profile_row(stderr, name, d->hits, d->missed, l, filt);
		h += d->hits > 0 ? d->hits : 0;
		m += d->missed > 0 ? d->missed : 0;
		f += filt > 0 ? filt : 0;
	}
	if (lost && kt->ndefs > 1)
		pk_out_profile_row(stderr, "# all events", h, m, lost, f);
}

/* ---- the run ---- */

static int parse_kopts(struct ktrace *kt, int argc, char **argv, char ***cmd)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'F'},
	    {"buffer-size", required_argument, NULL, 'B'},
	    {"filter", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"tree", no_argument, NULL, 'T'},
	    {"exec", required_argument, NULL, 'x'},
	    {"probe", required_argument, NULL, 'P'},
	    {"debug-file", required_argument, NULL, 'D'},
	    {"trigger", required_argument, NULL, 'R'},
	    {"synthetic", required_argument, NULL, 'S'},
	    {"stack", no_argument, NULL, 'K'},
	    {NULL, 0, NULL, 0},
	};
	const char *bin = NULL, *debug_file = NULL;
	char *end;
	int c, err;

	while ((c = pk_cli_getopt(argc, argv, "e:o:d:x:h", longopts, cmd)) != -1) {
		switch (c) {
		case 'x': bin = optarg; break;
		case 'D': debug_file = optarg; break;
		case 'P':
			if (pk_probe_add("probekit trace", bin, debug_file, optarg, add_kdef_line,
					 kt))
				return -EINVAL;
			break;
		case 'T': kt->tree = 1; break;
		case 'K': kt->stack = 1; break;
		case 'R':
			if (pk_khist_add_trigger(&kt->hist, optarg))
				return -ENOMEM;
			break;
		case 'S':
			if (pk_khist_add_synthetic(&kt->hist, optarg))
				return -ENOMEM;
			break;
		case 1:
			if (add_kdef(kt, optarg))
				return -EINVAL;
			break;
		case 'e':
			err = read_kdef_file(kt, optarg);
			if (err)
				return err;
			break;
		case 'o': kt->out_path = optarg; break;
		case 'f': kt->filters[kt->nfilters++] = optarg; break;
		case 'F':
			kt->json = pk_cli_parse_format(optarg);
			if (kt->json < 0)
				return -EINVAL;
			break;
		case 'd':
			kt->duration = pk_cli_parse_seconds(optarg);
			if (kt->duration < 0)
				return -EINVAL;
			break;
		case 'B':
			kt->buffer_kb = strtoul(optarg, &end, 10);
			if (*end || !kt->buffer_kb) {
				fprintf(stderr, "probekit trace: --buffer-size takes KiB\n");
				return -EINVAL;
			}
			break;
		case 'h': ktrace_usage(stdout); exit(0);
		default: ktrace_usage(stderr); return -EINVAL;
		}
	}
	return 0;
}

/* Set by SIGUSR1: print the hist files so far. */
static volatile sig_atomic_t khist_dump;

static void on_usr1(int sig)
{
	(void)sig;
	khist_dump = 1;
}

/*
 * Runs until the command exits, a signal, or -d. Returns the command's pid,
 * not yet waited for, 0 without command, or -1.
 */
static pid_t run(struct ktrace *kt, char **cmd)
{
	struct pollfd pfd = {.fd = kt->pipe_fd, .events = POLLIN};
	double deadline = kt->duration > 0 ? pk_now_s() + kt->duration : 0;
	pid_t child = 0;

	if (kt->gate >= 0) {
		child = kt->child;
		pk_cmd_open_gate(&kt->gate);
	} else if (cmd) {
		child = pk_cmd_start(cmd, NULL);
		if (child < 0) {
			perror("probekit trace: fork");
			return -1;
		}
	}
	for (;;) {
		poll(&pfd, 1, 100);
		drain(kt);
		if (khist_dump) {
			khist_dump = 0;
			fflush(kt->out);
			pk_khist_print(&kt->hist, kt->out);
		}
		if (child > 0 && pk_cmd_exited(child))
			return child;
		if (pk_cli_stop || (deadline && pk_now_s() >= deadline))
			break;
	}
	if (child > 0) {
		/* As the user-space tracer: SIGINT passed on, -d ends it, SIGKILL after a while. */
		kill(child, pk_cli_stop ? SIGINT : SIGTERM);
		deadline = pk_now_s() + STOP_GRACE_S;
		while (!pk_cmd_exited(child)) {
			if (pk_now_s() > deadline) {
				kill(child, SIGKILL);
				break;
			}
			drain(kt);
			usleep(10000);
		}
	}
	return child;
}

/*
 * --tree: the command is started held at a gate, and the instance records
 * only its pid and, through event-fork, every process it forks, as perf
 * keeps to its command. The events are enabled after this.
 */
static int keep_tree(struct ktrace *kt, char **cmd)
{
	char v[32];

	kt->child = pk_cmd_start(cmd, &kt->gate);
	if (kt->child < 0) {
		perror("probekit trace: fork");
		return -1;
	}
	snprintf(v, sizeof(v), "%d", (int)kt->child);
	if (inst_set(kt, "set_event_pid", v, 0) || inst_set(kt, "options/event-fork", "1", 0)) {
		kill(kt->child, SIGKILL);
		waitpid(kt->child, NULL, 0);
		return -1;
	}
	return 0;
}

/* Parses the command line into @kt; 0, or the exit status for a bad one. */
static int parse_kcmd(struct ktrace *kt, int argc, char **argv, char ***cmd)
{
	if (parse_kopts(kt, argc, argv, cmd))
		return 2;
	if (*cmd && !(*cmd)[0])
		*cmd = NULL;
	if (!kt->ndefs) {
		fprintf(stderr, "probekit trace: no definition\n");
		ktrace_usage(stderr);
		return 2;
	}
	return 0;
}

int cmd_trace_kernel(int argc, char **argv)
{
	struct ktrace kt = {.state_fd = -1, .pipe_fd = -1, .gate = -1};
	char **cmd = NULL;
	int i, err, status = 0, rc;
	long long lost;
	pid_t child;

	argc = pk_drop_kernel_flag(argc, argv);
	kt.filters = calloc((size_t)argc + 1, sizeof(*kt.filters));
	kt.jcap = 4096;
	kt.jbuf = malloc(kt.jcap);
	rc = !kt.filters || !kt.jbuf ? 1 : parse_kcmd(&kt, argc, argv, &cmd);
	if (rc)
		goto out;
	rc = 1;
	err = pk_tracefs_mount();
	if (err) {
		fprintf(stderr, "probekit trace: cannot mount tracefs at %s: %s\n", PK_TRACEFS,
			strerror(-err));
		goto out;
	}
	for (i = 0; i < (int)kt.ndefs; i++) {
		if (kt.defs[i].nopoint)
			kt.defs[i].uprobe = !pk_tracefs_exists("kprobe_events");
		if (lacks_probes(kt.defs[i].uprobe))
			goto out;
	}
	kt.out = kt.out_path ? fopen(kt.out_path, "we") : stdout;
	if (!kt.out) {
		fprintf(stderr, "probekit trace: %s: %s\n", kt.out_path, strerror(errno));
		rc = 2;
		goto out;
	}
	pk_cli_catch_signals(1);
	remove_leftovers();
	snprintf(kt.inst, sizeof(kt.inst), INST_PREFIX "%d", (int)getpid());
	snprintf(kt.inst_rel, sizeof(kt.inst_rel), "instances/%s", kt.inst);
	state_begin(&kt);
	{
		char path[512];

		if (mkdir(pk_tracefs_path(path, sizeof(path), kt.inst_rel), 0755)) {
			fprintf(stderr, "probekit trace: %s: %s\n", path, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	/* A setting, a definition or a filter the kernel refuses. */
	rc = 2;
	if (kt.buffer_kb) {
		char v[32];

		snprintf(v, sizeof(v), "%lu", kt.buffer_kb);
		if (inst_set(&kt, "buffer_size_kb", v, 0))
			goto out;
	}
	/*
	 * New events are dropped, not old ones overwritten: as the user-space
	 * ring. Options an older kernel lacks only cost what they would give.
	 */
	inst_set(&kt, "options/overwrite", "0", 1);
	if (kt.json)
		inst_set(&kt, "options/record-tgid", "1", 1);
	if (kt.stack && (inst_set(&kt, "options/userstacktrace", "1", 0) ||
			 inst_set(&kt, "options/sym-userobj", "1", 0)))
		goto out;
	if (create_events(&kt) || set_filters(&kt) ||
	    pk_khist_setup(&kt.hist, kt.inst_rel, trigger_event, &kt))
		goto out;
	if (kt.hist.ntrig_made)
		signal(SIGUSR1, on_usr1);
	for (i = 0; kt.json && i < (int)kt.ndefs; i++)
		read_format(&kt, &kt.defs[i]);
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/%s/trace_pipe", PK_TRACEFS, kt.inst_rel);
		kt.pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (kt.pipe_fd < 0) {
			fprintf(stderr, "probekit trace: %s: %s\n", path, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	if (kt.tree && cmd && keep_tree(&kt, cmd)) {
		rc = 1;
		goto out;
	}
	if (enable_events(&kt, "1")) {
		rc = 1;
		goto out;
	}
	child = run(&kt, cmd);
	/* Nothing new from here on; what is in the buffer still comes out. */
	enable_events(&kt, "0");
	drain(&kt);
	if (kt.npend)
		on_line(&kt, kt.pend, kt.npend);
	pk_khist_print(&kt.hist, kt.out);
	fflush(kt.out);
	if (child > 0)
		waitpid(child, &status, 0);
	read_profile(&kt, 0);
	read_profile(&kt, 1);
	lost = lost_events(&kt);
	print_kprofile(&kt, lost);
	if (child < 0)
		rc = 1;
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = WEXITSTATUS(status);
out:
	if (kt.gate >= 0) {
		/* Never let the held command run untraced. */
		kill(kt.child, SIGKILL);
		waitpid(kt.child, NULL, 0);
	}
	cleanup(&kt);
	if (kt.out && kt.out != stdout)
		fclose(kt.out);
	for (i = 0; i < (int)kt.ndefs; i++)
		free_def(&kt.defs[i]);
	free(kt.defs);
	free(kt.filters);
	free(kt.jbuf);
	free(kt.pend);
	return rc;
}

int pk_wants_kernel(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--kernel"))
			return 1;
	return 0;
}

/* Everything before "--" but the --kernel that brought us here. */
int pk_drop_kernel_flag(int argc, char **argv)
{
	int i, n = 0, dashes = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			dashes = 1;
		if (!dashes && !strcmp(argv[i], "--kernel"))
			continue;
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}
