// SPDX-License-Identifier: MIT
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#ifndef PK_AGENT_INSTALLED
#define PK_AGENT_INSTALLED "/usr/local/lib/probekit/libprobekit-agent.so"
#endif

/* The agent next to the command (build tree), else where make install put it. */
void pk_agent_path(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			snprintf(buf, size, "%.*s/libprobekit-agent.so", (int)(slash - exe), exe);
			if (access(buf, R_OK) == 0)
				return;
			snprintf(buf, size, "%.*s/../lib/probekit/libprobekit-agent.so",
				 (int)(slash - exe), exe);
			if (access(buf, R_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "%s", PK_AGENT_INSTALLED);
}
