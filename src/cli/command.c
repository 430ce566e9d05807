// SPDX-License-Identifier: MIT
/*
 * The command after "--" for probekit trace --kernel: started, held at the
 * gate until the kernel has been told its pid (--tree), and watched.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

pid_t pk_cmd_start(char **cmd, int *gate)
{
	int fds[2] = {-1, -1};
	pid_t pid;
	char c;

	if (gate && pipe2(fds, O_CLOEXEC))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (gate) {
			close(fds[1]);
			/* Opened when the tracer closes its end; gone with the tracer too. */
			while (read(fds[0], &c, 1) < 0 && errno == EINTR)
				;
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "probekit trace: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (gate) {
		close(fds[0]);
		*gate = fds[1];
	}
	return pid;
}

void pk_cmd_open_gate(int *gate)
{
	if (*gate >= 0)
		close(*gate);
	*gate = -1;
}

int pk_cmd_exited(pid_t child)
{
	siginfo_t si;

	si.si_pid = 0;
	return !waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == child;
}
