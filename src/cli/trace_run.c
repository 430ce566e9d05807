// SPDX-License-Identifier: MIT
/*
 * probekit trace running the program: started with the agent preloaded (or
 * attached to with -p), the definitions handed over and checked, the ring
 * read until the traced processes are gone, Ctrl-C or -d.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "cli/trace.h"

static void start_child(struct trace *t, char **cmd)
{
	char agent[PATH_MAX], env[64], *preload;
	const char *old = getenv("LD_PRELOAD");

	pk_agent_path(agent, sizeof(agent));
	if (access(agent, R_OK)) {
		fprintf(stderr, "probekit trace: the agent %s is missing: %s\n", agent,
			strerror(errno));
		_exit(127);
	}
	/* The agent opens them through our /proc entries: nothing leaks into the program. */
	snprintf(env, sizeof(env), "%d:%d:%d:%d", (int)getppid(), t->ctl_fd, pk_ring_fd(&t->ring),
		 !t->o.first_only);
	setenv(PK_ENV_TRACE, env, 1);
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
	pid_t pid = t->o.pid ? t->o.pid : t->child;
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
			fprintf(stderr,
				"probekit trace: %s/%s waits for %s to be loaded (by this program "
				"or one it runs)\n",
				t->defs[i]->group, t->defs[i]->event,
				pk_event_str(t->defs[i], t->defs[i]->object));
			pk_cli_hint_object(pid, pk_event_str(t->defs[i], t->defs[i]->object));
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
		if (ev->error == -ENOENT)
			pk_cli_hint_symbol(pid, pk_event_str(t->defs[i], t->defs[i]->object),
					   pk_event_str(t->defs[i], t->defs[i]->symbol));
		else if (ev->error == -EOPNOTSUPP)
			fprintf(stderr,
				"  (%s: a breakpoint (" ARCH_TRAP_NAME
				") is there already, a debugger's or "
				"a kernel uprobe's (bpftrace, perf probe): remove it, or probe the "
				"next instruction)\n",
				strerror(-ev->error));
		else if (ev->error != -EILSEQ)
			fprintf(stderr, "  (%s)\n", strerror(-ev->error));
	}
	return bad;
}

/*
 * Has every process of the trace ended? The command's status goes to
 * @status. The tracer is their subreaper: a daemon the command forked, or
 * a shell's background job, is still ours to wait for after the command
 * exits, and its events are read to the end.
 */
static int all_gone(struct trace *t, int *status)
{
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == t->child) {
			*status = st;
			t->child_done = 1;
		}
	return t->child_done && p < 0 && errno == ECHILD;
}

/* Until the processes end, Ctrl-C or -d: print what the ring brings. Return: 1 if they ended. */
int pk_trace_stream(struct trace *t, int *status)
{
	double deadline = t->o.duration > 0 ? pk_now_s() + t->o.duration : 0;
	int seen = 0;

	/* The first event wakes us at once; then one wake-up per quarter ring, not per record. */
	pk_ring_set_watermark(&t->ring, 0);
	for (;;) {
		pk_ring_wait(&t->ring, 100);
		pk_cycle_clock_sample(&t->clock);
		if (pk_ring_consume(&t->ring, pk_trace_on_record, t, 2000000000ull) > 0 && !seen++)
			pk_ring_set_watermark(&t->ring, t->o.buffer_size / 4);
		if (pk_trace_dump) {
			pk_trace_dump = 0;
			pk_trace_print_hist(t);
		}
		fflush(t->out);
		if (t->o.pid ? !pk_attach_alive(&t->att) : all_gone(t, status))
			return 1;
		if (pk_cli_stop || (deadline && pk_now_s() >= deadline))
			return 0;
	}
}

void pk_trace_stop_child(struct trace *t, int *status)
{
	double deadline;

	/* Only others of the trace were left: they go on without us. */
	if (t->child_done)
		return;
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
		pk_cycle_clock_sample(&t->clock);
		pk_ring_consume(&t->ring, pk_trace_on_record, t, 2000000000ull);
		usleep(10000);
	}
}

/* Start the program with the agent preloaded; 0 once it is armed, else the exit status. */
int pk_trace_launch(struct trace *t, char **cmd)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
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
	if ((t->o.stack || t->stack_ev) && (t->ustack = pk_ustack_new()))
		pk_ustack_preload(t->ustack, t->child);
	__atomic_store_n(&t->ctl->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &t->ctl->go, FUTEX_WAKE, 1, NULL, NULL, 0);
	return 0;
}

/* -p: load the agent into the process and hand it the definitions. */
int pk_trace_attach(struct trace *t)
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

int pk_trace_detach(struct trace *t)
{
	int err = pk_attach_close(&t->att);

	if (!err)
		fprintf(stderr, "probekit trace: detached from process %d in %.1f ms%s\n",
			(int)t->o.pid, (t->att.t_detached - t->att.t_detach) * 1000,
			t->att.unloaded ? ", the agent unloaded"
					: ", the agent stays loaded for another tracer");
	return err ? 1 : 0;
}
