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

#include "arch/arch.h"
#include "cli/cli.h"
#include "cli/kernel_hist.h"
#include "cli/output.h"
#include "cli/probe_cli.h"
#include "cli/trace.h"

static void trace_usage(FILE *f)
{
	fprintf(f,
		"usage: probekit trace [OPTIONS] DEF... -- COMMAND [ARG...]\n"
		"       probekit trace [OPTIONS] -p PID DEF...\n"
		"\n"
		"DEF is a line of the kernel's kprobe_events language, for example\n"
		"  'p:myprobe do_work a=$arg1:s32 s=+0($arg2):string'\n"
		"  'r:myret do_work ret=$retval'\n"
		"  'p libc.so.6:malloc size=$arg1:u64'\n"
		"\n"
		"options:\n"
		"  -e FILE            read definitions from FILE, one per line, '#' comments\n"
		"  -x, --exec BIN     the object of the --probe definitions after it\n"
		"      --probe DEF    perf probe's language, compiled with BIN's DWARF into\n"
		"                     definitions ('callee a p->name:string', 'callee%%return\n"
		"                     $retval', 'main.c:12 sum'; 'probekit probe -h' says more)\n"
		"      --debug-file F BIN's DWARF is in F\n"
		"  -o FILE            write events to FILE instead of standard output\n"
		"      --format FMT   text (ftrace's trace format, the default) or json\n"
		"  -p PID             attach to running process PID; at the end (Ctrl-C, -d,\n"
		"                     the process exiting) every probe is removed, the agent\n"
		"                     unloaded, and the process goes on as it was\n"
		"  -d SECONDS         stop after SECONDS (a started program is then terminated)\n"
		"      --first-only   trace COMMAND's program only, not the programs it and\n"
		"                     its children exec (its forks are traced either way)\n"
		"      --no-optimize  keep every probe an " ARCH_TRAP_NAME
		" breakpoint (by default probes\n"
		"                     run from a jump into a detour where the code allows)\n"
		"      --ret-insn     take return probes ('r:') at the function's ret\n"
		"                     instructions and tail jumps instead of swapping the\n"
		"                     return address (Go programs: always; CET shadow stacks)\n"
		"      --buffer-size N  ring size in KiB (default 4096); events that do not\n"
		"                     fit are dropped and counted as lost, never waited for\n"
		"      --filter 'EVENT: EXPR'  print EVENT only when EXPR (ftrace's filter\n"
		"                     language on its fields) holds; may be repeated\n"
		"      --trigger 'EVENT: hist:keys=K[,K...][:vals=V...][:VAR=EXPR...]\n"
		"                     [:sort=F[.descending]][:size=N]\n"
		"                     [:onmatch(GRP.EVENT).trace(SYNTH,PARAM...)][ if FILTER]'\n"
		"                     a hist trigger (the kernel's histogram.rst): EVENT's\n"
		"                     hits are aggregated, not printed, and its hist file is\n"
		"                     printed at the end and on SIGUSR1; may be repeated (also\n"
		"                     in -e files, as lines 'EVENT: hist:...')\n"
		"      --synthetic 'NAME TYPE FIELD[; TYPE FIELD...]'  a synthetic event\n"
		"                     (synthetic_events' syntax), fired by trace() actions\n"
		"      --stack[=DEPTH]  after each event, its user stack (DEPTH frames, 8 by\n"
		"                     default), as the kernel's userstacktrace and sym-userobj\n"
		"                     options print it; walked by frame pointers\n"
		"      --kernel       the kernel's own kprobes and uprobes through tracefs\n"
		"                     instead ('probekit trace --kernel -h' says more)\n"
		"  -h, --help         this text\n"
		"\n"
		"Every program COMMAND and its descendants exec is traced (each with its own\n"
		"pid and comm), and the trace ends when all of them have ended (or at\n"
		"Ctrl-C, -d). Definitions on an object a program does not load wait for it.\n"
		"The per-event profile (hits, missed, lost) goes to standard error at the end;\n"
		"the exit status is the program's (with -p: 0, or 1 if detaching failed).\n");
}

/* Room for twice as many definitions. */
static int grow(struct trace *t)
{
	unsigned int cap = t->cap ? 2 * t->cap : 64;
	struct pk_event_def **defs = realloc(t->defs, cap * sizeof(*defs));
	char **lines = defs ? realloc(t->lines, cap * sizeof(*lines)) : NULL;
	struct pk_filter **filters = lines ? realloc(t->filters, cap * sizeof(*filters)) : NULL;
	unsigned long long *filtered =
	    filters ? realloc(t->filtered, cap * sizeof(*filtered)) : NULL;

	if (defs)
		t->defs = defs;
	if (lines)
		t->lines = lines;
	if (filters)
		t->filters = filters;
	if (!filtered)
		return -ENOMEM;
	t->filtered = filtered;
	memset(t->filters + t->cap, 0, (cap - t->cap) * sizeof(*filters));
	memset(t->filtered + t->cap, 0, (cap - t->cap) * sizeof(*filtered));
	t->cap = cap;
	return 0;
}

static int add_def(struct trace *t, const char *line)
{
	struct pk_event_error err;
	struct pk_event_def *d;
	char report[PK_EV_MAX_LINE * 2 + 256];
	unsigned int i;
	size_t len;

	if (t->ndefs == PK_AGENT_MAX_EVENTS) {
		fprintf(stderr,
			"probekit trace: more than %d definitions (the ring's event ids are 16 "
			"bits): split the trace\n",
			PK_AGENT_MAX_EVENTS);
		return -E2BIG;
	}
	if (t->ndefs == t->cap && grow(t))
		return -ENOMEM;
	if (!t->scratch && !(t->scratch = malloc(sizeof(*t->scratch))))
		return -ENOMEM;
	d = t->scratch;
	if (pk_event_parse(d, line, &err)) {
		pk_event_error_print(&err, report, sizeof(report));
		fputs(report, stderr);
		return -EINVAL;
	}
	if (pk_cli_is_wildcard(d) && !t->expanding) {
		char **w = realloc(t->wild, (t->nwild + 1) * sizeof(*w));

		if (!w || !(w[t->nwild] = strdup(line)))
			return -ENOMEM;
		t->wild = w;
		t->nwild++;
		return 0;
	}
	if (d->kind == '-') {
		unsigned int before = t->ndefs;

		/* Deletes an event defined earlier in the same list, as in kprobe_events. */
		for (i = 0; i < t->ndefs; i++) {
			if (pk_cli_deletes(d->group, d->event, t->defs[i]->group,
					   t->defs[i]->event)) {
				free(t->defs[i]);
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
		if (!strcmp(t->defs[i]->group, d->group) && !strcmp(t->defs[i]->event, d->event)) {
			pk_event_error_set(&err, line, PK_EVERR_EVENT_EXIST, 0, 2);
			pk_event_error_print(&err, report, sizeof(report));
			fputs(report, stderr);
			return -EEXIST;
		}
	}
	/* Kept packed: a few hundred bytes instead of the parser's 55 KiB. */
	len = pk_event_pack(d);
	t->defs[t->ndefs] = malloc(len);
	t->lines[t->ndefs] = strdup(line);
	if (!t->defs[t->ndefs] || !t->lines[t->ndefs]) {
		free(t->defs[t->ndefs]);
		free(t->lines[t->ndefs]);
		return -ENOMEM;
	}
	memcpy(t->defs[t->ndefs], d, len);
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

		snprintf(full, sizeof(full), "%s/%s", t->defs[i]->group, t->defs[i]->event);
		if (strcmp(name, t->defs[i]->event) && strcmp(name, full))
			continue;
		found = 1;
		pk_filter_free(t->filters[i]);
		t->filters[i] = NULL;
		if (pk_filter_compile(t->defs[i], expr, &t->filters[i], &pos, &msg)) {
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

/* A string kept in a growing list. */
static int push_arg(char ***list, unsigned int *n, const char *s)
{
	char **l = realloc(*list, (*n + 1) * sizeof(*l));

	if (!l || !(l[*n] = strdup(s))) {
		if (l)
			*list = l;
		return -ENOMEM;
	}
	*list = l;
	(*n)++;
	return 0;
}

static int add_def_line(void *arg, const char *line)
{
	struct trace *t = arg;

	if (pk_is_trigger_line(line))
		return push_arg(&t->trig_args, &t->ntrig_args, line);
	return add_def(t, line);
}

static int read_def_file(struct trace *t, const char *path)
{
	return pk_cli_read_defs(path, add_def_line, t);
}

static int make_ctl(struct trace *t)
{
	size_t defs_off =
	    (sizeof(*t->ctl) + t->ndefs * sizeof(t->ctl->ev[0]) + 4095) & ~(size_t)4095;
	size_t at = defs_off;
	unsigned int i;

	for (i = 0; i < t->ndefs; i++)
		at += (pk_event_size(t->defs[i]) + 7) & ~(size_t)7;
	t->ctl_size = at;
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
	pk_cycle_clock_init(&t->clock);
	t->ctl->flags =
	    (t->o.no_optimize ? PK_CTL_NO_OPTIMIZE : 0) | (t->clock.on ? PK_CTL_CYCLES : 0);
	if (t->o.stack)
		t->ctl->flags |= PK_CTL_STACK | t->o.stack << 8;
	t->ctl->defs_offset = defs_off;
	for (i = 0, at = defs_off; i < t->ndefs; i++) {
		t->ctl->ev[i].def_offset = at;
		t->ctl->ev[i].def_size = pk_event_size(t->defs[i]);
		memcpy((char *)t->ctl + at, t->defs[i], t->ctl->ev[i].def_size);
		at += (t->ctl->ev[i].def_size + 7) & ~(size_t)7;
		t->ctl->ev[i].stack = pk_hist_stack_depth(t->hist, i);
		if (t->stack_ev && t->stack_ev[i] > t->ctl->ev[i].stack)
			t->ctl->ev[i].stack = t->stack_ev[i];
	}
	return 0;
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

int pk_trace_on_record(unsigned int id, const void *data, size_t len, void *arg)
{
	struct trace *t = arg;
	struct pk_event_fmt fmt = {.symbolize = symbolize, .ctx = t};
	const struct pk_trace_hdr *h = data;
	const struct pk_event_def *d;
	const void *rec;
	char where[192], comm[17];
	uint64_t ts;
	uint64_t stack[PK_STACK_MAX];
	unsigned int nstack = 0;
	size_t rlen;
	int n;

	/* The record is in memory the traced program can write: check before use. */
	if (id >= t->ndefs || len < sizeof(*h))
		return 0;
	d = t->defs[id];
	rec = (const char *)data + sizeof(*h);
	rlen = len - sizeof(*h);
	ts = pk_cycle_clock_ns(&t->clock, h->ts_ns);
	if (h->flags & PK_TRACE_HDR_STACK &&
	    PK_TRACE_HDR_NSTACK(h->flags) * sizeof(uint64_t) <= rlen) {
		nstack = PK_TRACE_HDR_NSTACK(h->flags);
		rlen -= nstack * sizeof(uint64_t);
		memcpy(stack, (const char *)rec + rlen, nstack * sizeof(uint64_t));
	}
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
	} else if (h->flags & PK_TRACE_HDR_WHERE) {
		/* A program exec'd later, where the probe point is another. */
		snprintf(where, sizeof(where), "%.*s", (int)sizeof(h->caller), h->caller);
	} else {
		snprintf(where, sizeof(where), "%s", t->ctl->ev[id].where);
	}
	if (t->hist && pk_hist_aggregates(t->hist, id)) {
		struct pk_hist_hit hit = {.ts_ns = ts,
					  .pid = h->pid,
					  .tid = h->tid,
					  .cpu = h->cpu,
					  .comm = comm,
					  .stack = stack,
					  .nstack = nstack};

		/* As a trigger's event in the kernel: counted, not written to the trace. */
		pk_hist_record(t->hist, id, rec, rlen, &hit);
		return 0;
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
		    .sec = ts / 1000000000ull,
		    .usec = (unsigned int)(ts % 1000000000ull / 1000),
		    .group = d->group,
		    .event = d->event,
		    .probe = where,
		    .args = t->line_buf,
		};

		pk_out_json_event(t->out, &e);
	} else {
		/* ftrace's trace_pipe line: comm-tid, cpu, flags, seconds.micros, event. */
		fprintf(t->out, "%16s-%-7u [%03u] ..... %5llu.%06llu: %s: (%s)", comm, h->tid,
			h->cpu, (unsigned long long)(ts / 1000000000ull),
			(unsigned long long)(ts % 1000000000ull / 1000), d->event, where);
		fwrite(t->line_buf, 1, (size_t)n, t->out);
		fputc('\n', t->out);
		if (nstack) {
			/* As the kernel's userstacktrace: an entry of its own, the frames under it.
			 */
			fprintf(t->out, "%16s-%-7u [%03u] ..... %5llu.%06llu: <user stack trace>\n",
				comm, h->tid, h->cpu, (unsigned long long)(ts / 1000000000ull),
				(unsigned long long)(ts % 1000000000ull / 1000));
			if (!t->ustack)
				t->ustack = pk_ustack_new();
			pk_ustack_print(t->ustack, t->out, (pid_t)h->pid, stack, nstack);
		}
	}
	return 0;
}

/* A synthetic event a trace() action fired: its trace line, as the kernel prints one. */
static void emit_synthetic(void *arg, const struct pk_event_def *d, const void *rec, size_t len,
			   const struct pk_hist_hit *hit)
{
	struct trace *t = arg;
	char args[1024];

	if (t->o.json) {
		struct pk_out_event e = {
		    .task = hit->comm,
		    .pid = hit->pid,
		    .tid = hit->tid,
		    .cpu = hit->cpu,
		    .sec = hit->ts_ns / 1000000000ull,
		    .usec = (unsigned int)(hit->ts_ns % 1000000000ull / 1000),
		    .group = d->group,
		    .event = d->event,
		    .probe = "",
		    .args = args,
		};

		pk_event_format_json(d, rec, len, args, sizeof(args), NULL);
		pk_out_json_event(t->out, &e);
		return;
	}
	pk_event_format(d, rec, len, args, sizeof(args), NULL);
	fprintf(t->out, "%16s-%-7u [%03u] ..... %5llu.%06llu: %s:%s\n", hit->comm, hit->tid,
		hit->cpu, (unsigned long long)(hit->ts_ns / 1000000000ull),
		(unsigned long long)(hit->ts_ns % 1000000000ull / 1000), d->event, args);
}

volatile sig_atomic_t pk_trace_dump;

static void on_usr1(int sig)
{
	(void)sig;
	pk_trace_dump = 1;
}

void pk_trace_print_hist(struct trace *t)
{
	if (!pk_hist_any(t->hist))
		return;
	fflush(t->out);
	pk_hist_print(t->hist, t->out, symbolize, t);
	fflush(t->out);
}

/*
 * "EVENT: stacktrace": the event's lines are followed by its user stack, as
 * the kernel's stacktrace trigger follows them with its stack. 1 if @arg is
 * one (0 if not, -1 for a bad one).
 */
static int stack_trigger(struct trace *t, const char *arg)
{
	const char *colon = strchr(arg, ':'), *s;
	unsigned int i, found = 0;

	if (!colon)
		return 0;
	for (s = colon + 1; *s == ' ' || *s == '\t'; s++)
		;
	if (strncmp(s, "stacktrace", 10))
		return 0;
	if (s[10 + strspn(s + 10, " \t")]) {
		fprintf(stderr,
			"probekit trace: '%s': a stacktrace trigger takes no count or "
			"filter here\n",
			arg);
		return -1;
	}
	if (!t->stack_ev && !(t->stack_ev = calloc(t->ndefs + 1, sizeof(*t->stack_ev))))
		return -1;
	for (i = 0; i < t->ndefs; i++) {
		char full[2 * PK_EV_NAME_SIZE + 2];
		size_t n = (size_t)(colon - arg);

		snprintf(full, sizeof(full), "%s/%s", t->defs[i]->group, t->defs[i]->event);
		if ((strlen(t->defs[i]->event) == n && !strncmp(t->defs[i]->event, arg, n)) ||
		    (strlen(full) == n && !strncmp(full, arg, n))) {
			t->stack_ev[i] = 8;
			found = 1;
		}
	}
	if (!found) {
		fprintf(stderr, "probekit trace: --trigger: no event '%.*s'\n", (int)(colon - arg),
			arg);
		return -1;
	}
	return 1;
}

/* --synthetic and --trigger, once every definition is known. */
static int setup_hist(struct trace *t)
{
	unsigned int i, nhist = 0;

	for (i = 0; i < t->ntrig_args; i++) {
		int r = stack_trigger(t, t->trig_args[i]);

		if (r < 0)
			return -EINVAL;
		if (!r)
			t->trig_args[nhist++] = t->trig_args[i];
		else
			free(t->trig_args[i]);
	}
	t->ntrig_args = nhist;
	if (!t->ntrig_args && !t->nsynth_args)
		return 0;
	if (!(t->hist = pk_hist_new(emit_synthetic, t)))
		return -ENOMEM;
	for (i = 0; i < t->ndefs; i++)
		if (pk_hist_add_event(t->hist, t->defs[i]))
			return -ENOMEM;
	for (i = 0; i < t->nsynth_args; i++)
		if (pk_hist_add_synthetic(t->hist, t->synth_args[i]))
			return -EINVAL;
	for (i = 0; i < t->ntrig_args; i++)
		if (pk_hist_add_trigger(t->hist, t->trig_args[i]))
			return -EINVAL;
	signal(SIGUSR1, on_usr1);
	return 0;
}

static void print_profile(struct trace *t)
{
	unsigned int i;

	pk_out_profile_head(stderr);
	for (i = 0; i < t->ndefs; i++) {
		char name[2 * PK_EV_NAME_SIZE + 2];

		snprintf(name, sizeof(name), "%s/%s", t->defs[i]->group, t->defs[i]->event);
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
	    {"first-only", no_argument, NULL, '1'},
	    {"no-optimize", no_argument, NULL, 'O'},
	    {"exec", required_argument, NULL, 'x'},
	    {"probe", required_argument, NULL, 'P'},
	    {"debug-file", required_argument, NULL, 'D'},
	    {"trigger", required_argument, NULL, 'T'},
	    {"synthetic", required_argument, NULL, 'S'},
	    {"stack", optional_argument, NULL, 'K'},
	    {"ret-insn", no_argument, NULL, 'R'},
	    {NULL, 0, NULL, 0},
	};
	const char *bin = NULL, *debug_file = NULL;
	char *end;
	int c, err;

	t->o.buffer_size = 4096 * 1024;
	while ((c = pk_cli_getopt(argc, argv, "e:o:d:p:x:h", longopts, cmd)) != -1) {
		switch (c) {
		case 'x': bin = optarg; break;
		case 'D': debug_file = optarg; break;
		case 'P':
			if (pk_probe_add("probekit trace", bin, debug_file, optarg, add_def_line,
					 t))
				return -EINVAL;
			break;
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
		case '1': t->o.first_only = 1; break;
		case 'O': t->o.no_optimize = 1; break;
		case 'R': t->o.ret_insn = 1; break;
		case 'p':
			t->o.pid = (pid_t)strtol(optarg, &end, 10);
			if (*end || t->o.pid <= 0) {
				fprintf(stderr, "probekit trace: -p takes a process id\n");
				return -EINVAL;
			}
			break;
		case 'f': t->filter_args[t->nfilter_args++] = optarg; break;
		case 'K':
			t->o.stack = optarg ? (unsigned int)strtoul(optarg, &end, 10) : 8;
			if ((optarg && *end) || !t->o.stack || t->o.stack > PK_STACK_MAX) {
				fprintf(stderr, "probekit trace: --stack=DEPTH is 1 to %d frames\n",
					PK_STACK_MAX);
				return -EINVAL;
			}
			break;
		case 'T':
			if (push_arg(&t->trig_args, &t->ntrig_args, optarg))
				return -ENOMEM;
			break;
		case 'S':
			if (push_arg(&t->synth_args, &t->nsynth_args, optarg))
				return -ENOMEM;
			break;
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

/* The program's file: COMMAND's, found as execvp() finds it, or the attached process's. */
static void program_file(const struct trace *t, char **cmd, char *buf, size_t size)
{
	const char *path = getenv("PATH");
	char link[64];
	ssize_t n;

	buf[0] = 0;
	if (t->o.pid) {
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)t->o.pid);
		n = readlink(link, buf, size - 1);
		buf[n > 0 ? n : 0] = 0;
		return;
	}
	if (!cmd || !cmd[0])
		return;
	if (strchr(cmd[0], '/')) {
		snprintf(buf, size, "%s", cmd[0]);
		return;
	}
	while (path && *path) {
		size_t l = strcspn(path, ":");

		snprintf(buf, size, "%.*s/%s", (int)l, path, cmd[0]);
		if (!access(buf, X_OK))
			return;
		path += l + (path[l] == ':');
	}
	buf[0] = 0;
}

static int add_expanded(struct trace *t, const char *line)
{
	return add_def(t, line);
}

static int expand_wildcards(struct trace *t, char **cmd)
{
	struct pk_event_def *d = malloc(sizeof(*d));
	struct pk_event_error err;
	char exe[PATH_MAX];
	unsigned int i;
	int ret = 0;

	if (!d)
		return -ENOMEM;
	program_file(t, cmd, exe, sizeof(exe));
	t->expanding = 1;
	for (i = 0; !ret && i < t->nwild; i++)
		ret = pk_event_parse(d, t->wild[i], &err)
			  ?: pk_cli_expand_wildcard(t, t->wild[i], d, exe[0] ? exe : NULL,
						    add_expanded);
	t->expanding = 0;
	free(d);
	return ret;
}

/*
 * A Go program: its return probes are taken at the exits (the runtime
 * copies goroutine stacks and checks every return address on them), and
 * one whose runtime starts its threads itself cannot host the agent.
 */
static int check_go(struct trace *t, char **cmd)
{
	char exe[PATH_MAX], full[PATH_MAX];
	unsigned int i;
	int go;

	program_file(t, cmd, exe, sizeof(exe));
	go = exe[0] ? pk_elf_go(exe) : 0;
	if (go == PK_GO_OWN_THREADS) {
		fprintf(stderr,
			"probekit trace: %s is a Go program without cgo: the Go runtime starts "
			"its threads itself, with a thread pointer of its own, where the agent's "
			"per-thread state cannot live. Build it with cgo (a package that imports "
			"\"C\", with CGO_ENABLED=1), or trace it with the kernel's uprobes: "
			"probekit trace --kernel 'p %s:main.main' -- ...\n",
			exe, realpath(exe, full) ? full : exe);
		return -ENOEXEC;
	}
	if (go)
		t->o.ret_insn = 1;
	for (i = 0; t->o.ret_insn && i < t->ndefs; i++) {
		if (!(t->defs[i]->flags & PK_EVF_RETURN))
			continue;
		if (t->defs[i]->nentry) {
			fprintf(stderr,
				"probekit trace: %s/%s: $argN of a return probe is saved at the "
				"entry, which return probes at the ret instructions (%s) do "
				"without: fetch the arguments in a 'p' event\n",
				t->defs[i]->group, t->defs[i]->event,
				go ? "a Go program's" : "--ret-insn");
			return -EINVAL;
		}
		t->defs[i]->flags |= PK_EVF_RET_INSN;
	}
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	struct trace t;
	int i, status = 0, err, exited, ret = 0;
	char **cmd = NULL;

	if (pk_wants_kernel(argc, argv))
		return cmd_trace_kernel(argc, argv);
	memset(&t, 0, sizeof(t));
	t.filter_args = calloc((size_t)argc + 1, sizeof(*t.filter_args));
	if (!t.filter_args || grow(&t))
		return 1;
	if (parse_opts(&t, argc, argv, &cmd))
		return 2;
	if (t.nwild && expand_wildcards(&t, cmd))
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
	if (setup_hist(&t))
		return 2;
	if (cmd && pk_check_preloadable(cmd[0]))
		return 2;
	if (check_go(&t, cmd))
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
	err = t.o.pid ? pk_trace_attach(&t) : pk_trace_launch(&t, cmd);
	if (err)
		return err;
	if ((t.o.stack || t.stack_ev) && t.o.pid && (t.ustack = pk_ustack_new()))
		pk_ustack_preload(t.ustack, t.o.pid);
	exited = pk_trace_stream(&t, &status);
	if (t.o.pid)
		ret = exited ? 0 : pk_trace_detach(&t);
	else if (!exited)
		pk_trace_stop_child(&t, &status);
	/* Whatever is still uncommitted will never be: its writer is gone (or disarmed). */
	pk_ring_consume(&t.ring, pk_trace_on_record, &t, 0);
	pk_trace_print_hist(&t);
	fflush(t.out);
	print_profile(&t);
	for (i = 0; i < (int)t.ndefs; i++)
		if (t.ctl->ev[i].state == PK_AGENT_DEFERRED && !t.ctl->ev[i].hits)
			fprintf(stderr, "probekit trace: %s/%s never fired: no process loaded %s\n",
				t.defs[i]->group, t.defs[i]->event,
				pk_event_str(t.defs[i], t.defs[i]->object));
	if (t.out != stdout)
		fclose(t.out);
	pk_hist_free(t.hist);
	pk_ustack_free(t.ustack);
	free(t.stack_ev);
	for (i = 0; i < (int)t.ntrig_args; i++)
		free(t.trig_args[i]);
	for (i = 0; i < (int)t.nsynth_args; i++)
		free(t.synth_args[i]);
	free(t.trig_args);
	free(t.synth_args);
	if (t.o.pid) {
		if (exited)
			fprintf(stderr, "probekit trace: process %d exited\n", (int)t.o.pid);
		return ret;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
