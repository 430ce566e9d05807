// SPDX-License-Identifier: MIT
/* What the CLI needs to know of a program file before it starts it. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

int pk_elf_has_interp(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), i, yes = 0;

	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64) {
		close(fd);
		return -ENOEXEC;
	}
	for (i = 0; i < eh.e_phnum; i++)
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (size_t)i * eh.e_phentsize)) ==
			sizeof(ph) &&
		    ph.p_type == PT_INTERP)
			yes = 1;
	close(fd);
	return yes;
}

/* @cmd as execvp() would find it. */
static int find_in_path(const char *cmd, char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(cmd, '/')) {
		snprintf(buf, size, "%s", cmd);
		return 0;
	}
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		snprintf(buf, size, "%.*s/%s", (int)(end - p), p, cmd);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int pk_check_preloadable(const char *cmd)
{
	char path[PATH_MAX];
	struct stat st;
	int interp;

	/* Let exec report what it reports (missing, not executable). */
	if (find_in_path(cmd, path, sizeof(path)) || stat(path, &st))
		return 0;
	if (st.st_mode & (S_ISUID | S_ISGID) && (st.st_uid != getuid() || st.st_gid != getgid())) {
		fprintf(stderr,
			"probekit trace: %s is set-user-ID or set-group-ID: the loader ignores "
			"LD_PRELOAD for it, so the agent cannot be loaded\n",
			path);
		return -EPERM;
	}
	interp = pk_elf_has_interp(path);
	if (interp == 0) {
		fprintf(stderr,
			"probekit trace: %s is statically linked: there is no loader to preload "
			"the agent into it; the kernel's uprobes can trace it: probekit trace "
			"--kernel 'p %s:main' -- %s\n",
			path, path, path);
		return -ENOEXEC;
	}
	return 0; /* a script, or a dynamic program */
}
