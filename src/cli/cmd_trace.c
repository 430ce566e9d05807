// SPDX-License-Identifier: MIT
/*
 * probekit trace: compile kprobe_events definitions, start the program with
 * the agent preloaded, hand it the compiled definitions and a ring, then
 * print what the ring brings until the program exits (or Ctrl-C, or -d),
 * and the per-event profile last.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/proto.h"
#include "cli/attach.h"
#include "cli/cli.h"
#include "cli/filter.h"
#include "cli/output.h"
#include "events/events.h"
#include "ring/ring.h"
#include "sym/sym.h"

struct trace_opts {
	const char *out;
	int json;
	double duration;
	size_t buffer_size;
	pid_t pid; /* -p: attach to this process instead of starting one */
};

struct trace {
	struct trace_opts o;
	FILE *out;
	struct pk_event_def *defs;
	char **lines;
	struct pk_filter **filters; /* per event, NULL: everything passes */
	const char **filter_args;
	unsigned int nfilter_args;
	unsigned long long *filtered;
	unsigned int ndefs;
	struct pk_agent_ctl *ctl;
	size_t ctl_size;
	int ctl_fd;
	struct pk_ring ring;
	pid_t child;
	struct pk_attach att;	  /* -p */
	struct pk_sym_proc *syms; /* the program's symbols, for the symbol type */
	int early_status;	  /* the program's status if it ended before the agent answered */
	char *line_buf;
	size_t line_cap;
};

static void trace_usage(FILE *f)
{
	fprintf(f,
		"usage: probekit trace [OPTIONS] DEF... -- COMMAND [ARG...]\n"
		"       probekit trace [OPTIONS] -p PID DEF...\n"
		"\n"
		"DEF is a line of the kernel's kprobe_events language, for example\n"
		"  'p:myprobe do_work a=%%di:s32 s=+0(%%si):string'\n"
		"  'r:myret do_work ret=$retval'\n"
		"  'p libc.so.6:malloc size=$arg1:u64'\n"
		"\n"
		"options:\n"
		"  -e FILE            read definitions from FILE, one per line, '#' comments\n"
		"  -o FILE            write events to FILE instead of standard output\n"
		"      --format FMT   text (ftrace's trace format, the default) or json\n"
		"  -p PID             attach to running process PID; at the end (Ctrl-C, -d,\n"
		"                     the process exiting) every probe is removed, the agent\n"
		"                     unloaded, and the process goes on as it was\n"
		"  -d SECONDS         stop after SECONDS (a started program is then terminated)\n"
		"      --buffer-size N  ring size in KiB (default 4096); events that do not\n"
		"                     fit are dropped and counted as lost, never waited for\n"
		"      --filter 'EVENT: EXPR'  print EVENT only when EXPR (ftrace's filter\n"
		"                     language on its fields) holds; may be repeated\n"
		"      --kernel       the kernel's own kprobes and uprobes through tracefs\n"
		"                     instead ('probekit trace --kernel -h' says more)\n"
		"  -h, --help         this text\n"
		"\n"
		"The per-event profile (hits, missed, lost) goes to standard error at the end;\n"
		"the exit status is the program's (with -p: 0, or 1 if detaching failed).\n");
}

static int add_def(struct trace *t, const char *line)
{
	struct pk_event_error err;
	struct pk_event_def *d;
	char report[PK_EV_MAX_LINE * 2 + 256];
	unsigned int i;

	if (t->ndefs == PK_AGENT_MAX_EVENTS) {
		fprintf(stderr, "probekit trace: more than %d definitions\n", PK_AGENT_MAX_EVENTS);
		return -E2BIG;
	}
	d = &t->defs[t->ndefs];
	if (pk_event_parse(d, line, &err)) {
		pk_event_error_print(&err, report, sizeof(report));
		fputs(report, stderr);
		return -EINVAL;
	}
	if (d->kind == '-') {
		unsigned int before = t->ndefs;

		/* Deletes an event defined earlier in the same list, as in kprobe_events. */
		for (i = 0; i < t->ndefs; i++) {
			if (pk_cli_deletes(d->group, d->event, t->defs[i].group,
					   t->defs[i].event)) {
				memmove(&t->defs[i], &t->defs[i + 1],
					(t->ndefs - i - 1) * sizeof(*t->defs));
				free(t->lines[i]);
				memmove(&t->lines[i], &t->lines[i + 1],
					(t->ndefs - i - 1) * sizeof(*t->lines));
				t->ndefs--;
				i--;
			}
		}
		return t->ndefs < before ? 0 : pk_cli_no_such_event(line);
	}
	for (i = 0; i < t->ndefs; i++) {
		if (!strcmp(t->defs[i].group, d->group) && !strcmp(t->defs[i].event, d->event)) {
			pk_event_error_set(&err, line, PK_EVERR_EVENT_EXIST, 0, 2);
			pk_event_error_print(&err, report, sizeof(report));
			fputs(report, stderr);
			return -EEXIST;
		}
	}
	t->lines[t->ndefs] = strdup(line);
	t->ndefs++;
	return 0;
}

/* --filter 'EVENT: EXPR' (or GRP/EVENT), compiled against that event's fields. */
static int add_filter(struct trace *t, const char *arg)
{
	const char *colon = strchr(arg, ':'), *expr, *msg;
	char name[2 * PK_EV_NAME_SIZE + 2];
	unsigned int i, found = 0;
	int pos;

	if (!colon || (size_t)(colon - arg) >= sizeof(name)) {
		fprintf(stderr, "probekit trace: --filter takes 'EVENT: EXPRESSION'\n");
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(colon - arg), arg);
	expr = colon + 1;
	while (*expr == ' ')
		expr++;
	for (i = 0; i < t->ndefs; i++) {
		char full[2 * PK_EV_NAME_SIZE + 2];

		snprintf(full, sizeof(full), "%s/%s", t->defs[i].group, t->defs[i].event);
		if (strcmp(name, t->defs[i].event) && strcmp(name, full))
			continue;
		found = 1;
		pk_filter_free(t->filters[i]);
		t->filters[i] = NULL;
		if (pk_filter_compile(&t->defs[i], expr, &t->filters[i], &pos, &msg)) {
			fprintf(stderr, "probekit trace: filter error: %s\n  Filter: %s\n  %*s^\n",
				msg, expr, pos + 8, "");
			return -EINVAL;
		}
	}
	if (!found) {
		fprintf(stderr, "probekit trace: --filter: no event '%s'\n", name);
		return -ENOENT;
	}
	return 0;
}

static int add_def_line(void *t, const char *line)
{
	return add_def(t, line);
}

static int read_def_file(struct trace *t, const char *path)
{
	return pk_cli_read_defs(path, add_def_line, t);
}

static int make_ctl(struct trace *t)
{
	size_t defs_off = (sizeof(*t->ctl) + 4095) & ~(size_t)4095;

	t->ctl_size = defs_off + (size_t)t->ndefs * sizeof(struct pk_event_def);
	t->ctl_fd = memfd_create("probekit-ctl", MFD_CLOEXEC);
	if (t->ctl_fd < 0 || ftruncate(t->ctl_fd, (off_t)t->ctl_size))
		return -errno;
	t->ctl = mmap(NULL, t->ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->ctl_fd, 0);
	if (t->ctl == MAP_FAILED)
		return -errno;
	t->ctl->magic = PK_AGENT_MAGIC;
	t->ctl->version = PK_AGENT_VERSION;
	t->ctl->nevents = t->ndefs;
	t->ctl->def_size = sizeof(struct pk_event_def);
	t->ctl->defs_offset = defs_off;
	memcpy((char *)t->ctl + defs_off, t->defs, (size_t)t->ndefs * sizeof(*t->defs));
	return 0;
}

static void start_child(struct trace *t, char **cmd)
{
	char agent[PATH_MAX], fdbuf[16], *preload;
	const char *old = getenv("LD_PRELOAD");
	int rfd = pk_ring_fd(&t->ring);

	pk_agent_path(agent, sizeof(agent));
	if (access(agent, R_OK)) {
		fprintf(stderr, "probekit trace: the agent %s is missing: %s\n", agent,
			strerror(errno));
		_exit(127);
	}
	/* The descriptors the agent reads must survive exec. */
	fcntl(t->ctl_fd, F_SETFD, 0);
	fcntl(rfd, F_SETFD, 0);
	snprintf(fdbuf, sizeof(fdbuf), "%d", t->ctl_fd);
	setenv(PK_ENV_CTL_FD, fdbuf, 1);
	snprintf(fdbuf, sizeof(fdbuf), "%d", rfd);
	setenv(PK_ENV_RING_FD, fdbuf, 1);
	if (old && *old) {
		preload = malloc(strlen(agent) + strlen(old) + 2);
		sprintf(preload, "%s:%s", agent, old);
		setenv("LD_PRELOAD", preload, 1);
	} else {
		setenv("LD_PRELOAD", agent, 1);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	execvp(cmd[0], cmd);
	fprintf(stderr, "probekit trace: %s: %s\n", cmd[0], strerror(errno));
	_exit(127);
}

/* Wait until the agent armed everything, or the program died trying. */
static int wait_ready(struct trace *t)
{
	struct timespec ts = {0, 100000000};
	int i, status;

	for (i = 0; i < 300; i++) {
		if (__atomic_load_n(&t->ctl->ready, __ATOMIC_ACQUIRE))
			return 0;
		if (t->o.pid && !pk_attach_alive(&t->att)) {
			fprintf(stderr, "probekit trace: process %d exited\n", (int)t->o.pid);
			return -ESRCH;
		}
		if (!t->o.pid && waitpid(t->child, &status, WNOHANG) == t->child) {
			t->child = -1;
			t->early_status = status;
			/* 127: exec failed and said why already. */
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
				fprintf(stderr,
					"probekit trace: the program exited before the agent "
					"started (a static program cannot be preloaded)\n");
			return -ECHILD;
		}
		syscall(SYS_futex, &t->ctl->ready, FUTEX_WAIT, 0, &ts, NULL, 0);
	}
	fprintf(stderr, "probekit trace: the agent did not answer in 30 s\n");
	return -ETIMEDOUT;
}

static int report_refusals(struct trace *t)
{
	char report[PK_EV_MAX_LINE * 2 + 256];
	unsigned int i;
	int bad = 0;

	for (i = 0; i < t->ndefs; i++) {
		const struct pk_agent_event *ev = &t->ctl->ev[i];
		struct pk_event_error err;
		enum pk_ev_err cause;

		if (ev->state == PK_AGENT_ARMED)
			continue;
		if (ev->state == PK_AGENT_DEFERRED) {
			fprintf(stderr, "probekit trace: %s/%s waits for %s to be loaded\n",
				t->defs[i].group, t->defs[i].event,
				pk_event_str(&t->defs[i], t->defs[i].object));
			continue;
		}
		bad++;
		cause = pk_event_register_cause(ev->error);
		if (cause == PK_EVERR_NONE) {
			fprintf(stderr, "probekit trace: %s: %s\n", t->lines[i],
				strerror(-ev->error));
			continue;
		}
		pk_event_error_set(&err, t->lines[i], cause, 1, 0);
		pk_event_error_print(&err, report, sizeof(report));
		fputs(report, stderr);
		if (ev->error != -ENOENT && ev->error != -EILSEQ)
			fprintf(stderr, "  (%s)\n", strerror(-ev->error));
	}
	return bad;
}

/* The symbol type: %pS of an address of the traced program, with its symbols. */
static int symbolize(void *ctx, char *buf, size_t size, unsigned long addr)
{
	struct trace *t = ctx;

	/* Attached: read only when a symbol is printed, the attach is quicker without. */
	if (!t->syms && t->o.pid)
		t->syms = pk_sym_proc_open(t->o.pid);
	return pk_sym_proc_sprint(t->syms, buf, size, addr);
}

static int on_record(unsigned int id, const void *data, size_t len, void *arg)
{
	struct trace *t = arg;
	struct pk_event_fmt fmt = {.symbolize = symbolize, .ctx = t};
	const struct pk_trace_hdr *h = data;
	const struct pk_event_def *d;
	const void *rec;
	char where[192], comm[17];
	size_t rlen;
	int n;

	/* The record is in memory the traced program can write: check before use. */
	if (id >= t->ndefs || len < sizeof(*h))
		return 0;
	d = &t->defs[id];
	rec = (const char *)data + sizeof(*h);
	rlen = len - sizeof(*h);
	memcpy(comm, h->comm, 16);
	comm[16] = 0;
	if (d->flags & PK_EVF_RETURN) {
		char caller[65], func[96];

		memcpy(caller, h->caller, 64);
		caller[64] = 0;
		/* The function as %ps prints it: its probe point without "+0x0/SIZE". */
		snprintf(func, sizeof(func), "%s", t->ctl->ev[id].where);
		func[strcspn(func, "+")] = 0;
		snprintf(where, sizeof(where), "%s <- %s", caller, func);
	} else {
		snprintf(where, sizeof(where), "%s", t->ctl->ev[id].where);
	}
	if (t->filters[id]) {
		struct pk_filter_ctx fc = {.pid = h->pid, .comm = comm};

		if (!pk_filter_match(t->filters[id], d, rec, rlen, &fc)) {
			t->filtered[id]++;
			return 0;
		}
	}
	for (;;) {
		n = t->o.json ? pk_event_format_json(d, rec, rlen, t->line_buf, t->line_cap, &fmt)
			      : pk_event_format(d, rec, rlen, t->line_buf, t->line_cap, &fmt);
		if (n < 0)
			return 0;
		if ((size_t)n < t->line_cap)
			break;
		t->line_cap = (size_t)n + 1;
		t->line_buf = realloc(t->line_buf, t->line_cap);
	}
	if (t->o.json) {
		struct pk_out_event e = {
		    .task = comm,
		    .pid = h->pid,
		    .tid = h->tid,
		    .cpu = h->cpu,
		    .sec = h->ts_ns / 1000000000ull,
		    .usec = (unsigned int)(h->ts_ns % 1000000000ull / 1000),
		    .group = d->group,
		    .event = d->event,
		    .probe = where,
		    .args = t->line_buf,
		};

		pk_out_json_event(t->out, &e);
	} else {
		/* ftrace's trace_pipe line: comm-tid, cpu, flags, seconds.micros, event. */
		fprintf(t->out, "%16s-%-7u [%03u] ..... %5llu.%06llu: %s: (%s)", comm, h->tid,
			h->cpu, (unsigned long long)(h->ts_ns / 1000000000ull),
			(unsigned long long)(h->ts_ns % 1000000000ull / 1000), d->event, where);
		fwrite(t->line_buf, 1, (size_t)n, t->out);
		fputc('\n', t->out);
	}
	return 0;
}

static void print_profile(struct trace *t)
{
	unsigned int i;

	pk_out_profile_head(stderr);
	for (i = 0; i < t->ndefs; i++) {
		char name[2 * PK_EV_NAME_SIZE + 2];

		snprintf(name, sizeof(name), "%s/%s", t->defs[i].group, t->defs[i].event);
		pk_out_profile_row(stderr, name, (long long)t->ctl->ev[i].hits,
				   (long long)t->ctl->ev[i].missed,
				   (long long)pk_ring_lost(&t->ring, i), (long long)t->filtered[i]);
	}
}

static int parse_opts(struct trace *t, int argc, char **argv, char ***cmd)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'F'},
	    {"buffer-size", required_argument, NULL, 'B'},
	    {"filter", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c, err;

	t->o.buffer_size = 4096 * 1024;
	while ((c = pk_cli_getopt(argc, argv, "e:o:d:p:h", longopts, cmd)) != -1) {
		switch (c) {
		case 1:
			if (add_def(t, optarg))
				return -EINVAL;
			break;
		case 'e':
			err = read_def_file(t, optarg);
			if (err)
				return err;
			break;
		case 'o': t->o.out = optarg; break;
		case 'p':
			t->o.pid = (pid_t)strtol(optarg, &end, 10);
			if (*end || t->o.pid <= 0) {
				fprintf(stderr, "probekit trace: -p takes a process id\n");
				return -EINVAL;
			}
			break;
		case 'f': t->filter_args[t->nfilter_args++] = optarg; break;
		case 'F':
			t->o.json = pk_cli_parse_format(optarg);
			if (t->o.json < 0)
				return -EINVAL;
			break;
		case 'd':
			t->o.duration = pk_cli_parse_seconds(optarg);
			if (t->o.duration < 0)
				return -EINVAL;
			break;
		case 'B':
			t->o.buffer_size = strtoul(optarg, &end, 10) * 1024;
			if (*end || t->o.buffer_size < 4096 ||
			    t->o.buffer_size > PK_RING_MAX_DATA) {
				fprintf(stderr, "probekit trace: --buffer-size is 4 to %llu KiB\n",
					(unsigned long long)PK_RING_MAX_DATA / 1024);
				return -EINVAL;
			}
			break;
		case 'h': trace_usage(stdout); exit(0);
		default: trace_usage(stderr); return -EINVAL;
		}
	}
	return 0;
}

/* Until the program ends, Ctrl-C or -d: print what the ring brings. Return: 1 if it ended. */
static int stream(struct trace *t, int *status)
{
	double deadline = t->o.duration > 0 ? pk_now_s() + t->o.duration : 0;
	int seen = 0;

	/* The first event wakes us at once; then one wake-up per quarter ring, not per record. */
	pk_ring_set_watermark(&t->ring, 0);
	for (;;) {
		pk_ring_wait(&t->ring, 100);
		if (pk_ring_consume(&t->ring, on_record, t, 2000000000ull) > 0 && !seen++)
			pk_ring_set_watermark(&t->ring, t->o.buffer_size / 4);
		fflush(t->out);
		if (t->o.pid ? !pk_attach_alive(&t->att)
			     : waitpid(t->child, status, WNOHANG) == t->child)
			return 1;
		if (pk_cli_stop || (deadline && pk_now_s() >= deadline))
			return 0;
	}
}

static void stop_child(struct trace *t, int *status)
{
	double deadline;

	/*
	 * Ctrl-C: the program had it too from the terminal, but not when
	 * only the tracer was signalled; -d ends it with SIGTERM. A
	 * program that ignores the signal gets SIGKILL after 5 s.
	 */
	kill(t->child, pk_cli_stop ? SIGINT : SIGTERM);
	deadline = pk_now_s() + 5;
	while (waitpid(t->child, status, WNOHANG) != t->child) {
		if (pk_now_s() > deadline) {
			kill(t->child, SIGKILL);
			waitpid(t->child, status, 0);
			break;
		}
		pk_ring_consume(&t->ring, on_record, t, 2000000000ull);
		usleep(10000);
	}
}

/* Start the program with the agent preloaded; 0 once it is armed, else the exit status. */
static int launch(struct trace *t, char **cmd)
{
	fflush(NULL);
	t->child = fork();
	if (t->child < 0) {
		perror("probekit trace: fork");
		return 1;
	}
	if (t->child == 0)
		start_child(t, cmd);
	if (wait_ready(t)) {
		if (t->child > 0) {
			kill(t->child, SIGKILL);
			waitpid(t->child, NULL, 0);
			return 1;
		}
		return WIFEXITED(t->early_status) && WEXITSTATUS(t->early_status) == 127 ? 127 : 1;
	}
	if (report_refusals(t)) {
		__atomic_store_n(&t->ctl->go, 2, __ATOMIC_RELEASE);
		syscall(SYS_futex, &t->ctl->go, FUTEX_WAKE, 1, NULL, NULL, 0);
		waitpid(t->child, NULL, 0);
		return 1;
	}
	/* Before main(): the program and the libraries it starts with are mapped. */
	t->syms = pk_sym_proc_open(t->child);
	__atomic_store_n(&t->ctl->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &t->ctl->go, FUTEX_WAKE, 1, NULL, NULL, 0);
	return 0;
}

/* -p: load the agent into the process and hand it the definitions. */
static int attach(struct trace *t)
{
	if (pk_attach_open(&t->att, t->o.pid, "probekit trace")) {
		pk_attach_close(&t->att);
		return 1;
	}
	if (pk_attach_send(&t->att, PK_ATTACH_TRACE, t->ctl_fd, pk_ring_fd(&t->ring))) {
		fprintf(stderr, "probekit trace: the agent in process %d hung up\n", (int)t->o.pid);
		pk_attach_close(&t->att);
		return 1;
	}
	if (wait_ready(t) || report_refusals(t)) {
		pk_attach_close(&t->att);
		return 1;
	}
	fprintf(stderr, "probekit trace: attached to process %d in %.1f ms, %u probes armed\n",
		(int)t->o.pid, (pk_now_s() - t->att.t_start) * 1000, t->ndefs);
	return 0;
}

static int detach(struct trace *t)
{
	int err = pk_attach_close(&t->att);

	if (!err)
		fprintf(stderr, "probekit trace: detached from process %d in %.1f ms%s\n",
			(int)t->o.pid, (t->att.t_detached - t->att.t_detach) * 1000,
			t->att.unloaded ? ", the agent unloaded"
					: ", the agent stays loaded for another tracer");
	return err ? 1 : 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace t;
	int i, status = 0, err, exited, ret = 0;
	char **cmd = NULL;

	if (pk_wants_kernel(argc, argv))
		return cmd_trace_kernel(argc, argv);
	memset(&t, 0, sizeof(t));
	t.defs = calloc(PK_AGENT_MAX_EVENTS, sizeof(*t.defs));
	t.lines = calloc(PK_AGENT_MAX_EVENTS, sizeof(*t.lines));
	t.filters = calloc(PK_AGENT_MAX_EVENTS, sizeof(*t.filters));
	t.filtered = calloc(PK_AGENT_MAX_EVENTS, sizeof(*t.filtered));
	t.filter_args = calloc((size_t)argc + 1, sizeof(*t.filter_args));
	if (!t.defs || !t.lines || !t.filters || !t.filtered || !t.filter_args)
		return 1;
	if (parse_opts(&t, argc, argv, &cmd))
		return 2;
	if (t.o.pid && cmd) {
		fprintf(stderr, "probekit trace: -p PID and a command exclude each other\n");
		return 2;
	}
	if (!t.o.pid && (!cmd || !cmd[0])) {
		fprintf(stderr, "probekit trace: no command: give it after '--', or -p PID\n");
		trace_usage(stderr);
		return 2;
	}
	if (!t.ndefs) {
		fprintf(stderr, "probekit trace: no definition\n");
		return 2;
	}
	for (i = 0; i < (int)t.nfilter_args; i++)
		if (add_filter(&t, t.filter_args[i]))
			return 2;
	if (cmd && pk_check_preloadable(cmd[0]))
		return 2;
	t.out = t.o.out ? fopen(t.o.out, "we") : stdout;
	if (!t.out) {
		fprintf(stderr, "probekit trace: %s: %s\n", t.o.out, strerror(errno));
		return 2;
	}
	err = pk_ring_create(&t.ring, t.o.buffer_size);
	if (!err)
		err = make_ctl(&t);
	if (err) {
		fprintf(stderr, "probekit trace: cannot set up shared memory: %s\n",
			strerror(-err));
		return 1;
	}
	t.line_cap = 4096;
	t.line_buf = malloc(t.line_cap);
	pk_cli_catch_signals(0);
	err = t.o.pid ? attach(&t) : launch(&t, cmd);
	if (err)
		return err;
	exited = stream(&t, &status);
	if (t.o.pid)
		ret = exited ? 0 : detach(&t);
	else if (!exited)
		stop_child(&t, &status);
	/* Whatever is still uncommitted will never be: its writer is gone (or disarmed). */
	pk_ring_consume(&t.ring, on_record, &t, 0);
	fflush(t.out);
	print_profile(&t);
	if (t.out != stdout)
		fclose(t.out);
	if (t.o.pid) {
		if (exited)
			fprintf(stderr, "probekit trace: process %d exited\n", (int)t.o.pid);
		return ret;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
