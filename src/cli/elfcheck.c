// SPDX-License-Identifier: MIT
/* What the CLI needs to know of a program file before it starts it. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
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

/* Does @e's dynamic symbol table name @want (defined or imported)? */
static int dynsym_has(Elf *e, const char *want)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		size_t i, n;
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; d && i < n; i++) {
			const char *name;

			if (gelf_getsym(d, (int)i, &sym) &&
			    (name = elf_strptr(e, sh.sh_link, sym.st_name)) && !strcmp(name, want))
				return 1;
		}
	}
	return 0;
}

int pk_elf_go(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), go = 0;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf *e;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && !elf_getshdrstrndx(e, &shstrndx)) {
		while (!go && (scn = elf_nextscn(e, scn))) {
			const char *name =
			    gelf_getshdr(scn, &sh) ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;

			/* Every Go linker since 1.13 writes it, stripped or not. */
			go = name && !strcmp(name, ".go.buildinfo");
		}
		/* runtime/cgo starts threads with pthread_create; the runtime alone uses clone. */
		if (go)
			go = dynsym_has(e, "pthread_create") ? PK_GO_CGO : PK_GO_OWN_THREADS;
	}
	if (e)
		elf_end(e);
	close(fd);
	return go;
}
