// SPDX-License-Identifier: MIT
/*
 * An object's DWARF, found where gdb and perf look: in the file itself,
 * /usr/lib/debug/.build-id/xx/yyyy.debug, then .gnu_debuglink's name next to
 * the file, in its .debug/ and under /usr/lib/debug; or a file the user names.
 * Symbols and program headers always come from the object itself.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/probe_int.h"

int pk_pp_fail(char *why, size_t n, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return err;
}

int pk_pp_file_match(const char *full, const char *want)
{
	size_t lf = strlen(full), lw = strlen(want);

	if (!strcmp(full, want))
		return 1;
	return lf > lw && !strcmp(full + lf - lw, want) && full[lf - lw - 1] == '/';
}

static int has_debug_info(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".debug_info"))
			return 1;
	}
	return 0;
}

/* .gnu_debuglink's file name, or NULL. */
static const char *debuglink(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;
	Elf_Data *data;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debuglink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_size > 4 && memchr(data->d_buf, 0, data->d_size))
			return data->d_buf;
	}
	return NULL;
}

static int open_elf(const char *path, int *fd, Elf **elf)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*elf || elf_kind(*elf) != ELF_K_ELF) {
		if (*elf)
			elf_end(*elf);
		close(*fd);
		*fd = -1;
		*elf = NULL;
		return -ENOEXEC;
	}
	return 0;
}

/* Tries @path as the separate debug file; 1 if it has DWARF and is now open. */
static int try_debug_file(struct pk_dbg *d, const char *path, char *tried, size_t tn)
{
	size_t l = strlen(tried);

	if (l < tn)
		snprintf(tried + l, tn - l, "%s%s", l ? ", " : "", path);
	if (access(path, R_OK) || open_elf(path, &d->dfd, &d->delf))
		return 0;
	if (has_debug_info(d->delf)) {
		snprintf(d->debug_path, sizeof(d->debug_path), "%s", path);
		return 1;
	}
	elf_end(d->delf);
	close(d->dfd);
	d->delf = NULL;
	d->dfd = -1;
	return 0;
}

static int find_separate(struct pk_dbg *d, char *tried, size_t tn)
{
	const void *id;
	const unsigned char *b;
	ssize_t len = dwelf_elf_gnu_build_id(d->elf, &id);
	char path[PATH_MAX + 64], dir[PATH_MAX];
	const char *link;
	char *slash;
	ssize_t i;
	int o;

	if (len > 1) {
		b = id;
		o = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", b[0]);
		for (i = 1; i < len && o < (int)sizeof(path) - 8; i++)
			o += snprintf(path + o, sizeof(path) - (size_t)o, "%02x", b[i]);
		snprintf(path + o, sizeof(path) - (size_t)o, ".debug");
		if (try_debug_file(d, path, tried, tn))
			return 1;
	}
	link = debuglink(d->elf);
	if (!link)
		return 0;
	snprintf(dir, sizeof(dir), "%s", d->path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, link);
	/* The debuglink may name the object itself (objcopy --only-keep-debug kept none). */
	if (strcmp(path, d->path) && try_debug_file(d, path, tried, tn))
		return 1;
	snprintf(path, sizeof(path), "%s/.debug/%s", dir, link);
	if (try_debug_file(d, path, tried, tn))
		return 1;
	snprintf(path, sizeof(path), "/usr/lib/debug%s/%s", dir, link);
	return try_debug_file(d, path, tried, tn);
}

/* "probe_" and the file name up to its first character that is not a C identifier's. */
static void make_group(struct pk_dbg *d)
{
	const char *base = strrchr(d->path, '/');
	size_t i, o = strlen("probe_");

	base = base ? base + 1 : d->path;
	memcpy(d->group, "probe_", o);
	for (i = 0; base[i] && (isalnum((unsigned char)base[i]) || base[i] == '_') &&
		    o < sizeof(d->group) - 1;
	     i++)
		d->group[o++] = base[i];
	d->group[o] = 0;
}

int pk_dbg_open(const char *bin, const char *debug_file, struct pk_dbg **out, char *why, size_t n)
{
	struct pk_dbg *d = calloc(1, sizeof(*d));
	char tried[1024] = "";
	int err;

	if (!d)
		return -ENOMEM;
	d->fd = d->dfd = -1;
	elf_version(EV_CURRENT);
	if (!realpath(bin, d->path)) {
		err = pk_pp_fail(why, n, -ENOENT, "%s: %s", bin, strerror(errno));
		goto fail;
	}
	err = open_elf(d->path, &d->fd, &d->elf);
	if (err) {
		pk_pp_fail(why, n, err, "%s: %s", bin,
			   err == -ENOEXEC ? "not an ELF file" : strerror(-err));
		goto fail;
	}
	make_group(d);
	if (debug_file) {
		err = open_elf(debug_file, &d->dfd, &d->delf);
		if (err) {
			pk_pp_fail(why, n, err == -ENOEXEC ? err : -ENOENT, "%s: %s", debug_file,
				   err == -ENOEXEC ? "not an ELF file" : strerror(-err));
			goto fail;
		}
		if (!has_debug_info(d->delf)) {
			err =
			    pk_pp_fail(why, n, -ENODATA, "%s has no debug information", debug_file);
			goto fail;
		}
		snprintf(d->debug_path, sizeof(d->debug_path), "%s", debug_file);
	} else if (has_debug_info(d->elf)) {
		snprintf(d->debug_path, sizeof(d->debug_path), "%s", d->path);
	} else if (!find_separate(d, tried, sizeof(tried))) {
		err = pk_pp_fail(why, n, -ENODATA,
				 "%s has no debug information (no .debug_info section; looked "
				 "for a separate file in: %s); build it with -g, install its "
				 "-dbgsym package, or name the file with --debug-file",
				 bin, tried[0] ? tried : "nowhere: no build-id nor .gnu_debuglink");
		goto fail;
	}
	d->dw = dwarf_begin_elf(d->delf ? d->delf : d->elf, DWARF_C_READ, NULL);
	if (!d->dw) {
		err = pk_pp_fail(why, n, -ENODATA, "%s: cannot read its DWARF: %s", d->debug_path,
				 dwarf_errmsg(-1));
		goto fail;
	}
	d->cfi_eh = dwarf_getcfi_elf(d->elf);
	d->cfi_dbg = dwarf_getcfi(d->dw);
	*out = d;
	return 0;
fail:
	pk_dbg_close(d);
	return err;
}

void pk_dbg_close(struct pk_dbg *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	if (d->cfi_eh)
		dwarf_cfi_end(d->cfi_eh);
	if (d->delf)
		elf_end(d->delf);
	if (d->elf)
		elf_end(d->elf);
	if (d->dfd >= 0)
		close(d->dfd);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

/* The first executable PT_LOAD segment (@within: the one holding @addr): 0, or -ERANGE. */
static int exec_segment(const struct pk_dbg *d, Dwarf_Addr addr, int within, GElf_Phdr *ph)
{
	size_t i, nph;

	if (elf_getphdrnum(d->elf, &nph))
		return -ERANGE;
	for (i = 0; i < nph; i++)
		if (gelf_getphdr(d->elf, (int)i, ph) && ph->p_type == PT_LOAD &&
		    (ph->p_flags & PF_X) &&
		    (!within || (addr >= ph->p_vaddr && addr < ph->p_vaddr + ph->p_filesz)))
			return 0;
	return -ERANGE;
}

int pk_dbg_offset(const struct pk_dbg *d, Dwarf_Addr addr, unsigned long *off)
{
	GElf_Phdr ph;

	if (exec_segment(d, addr, 1, &ph))
		return -ERANGE;
	*off = (unsigned long)(addr - ph.p_vaddr + ph.p_offset);
	return 0;
}

int pk_dbg_static_offset(const struct pk_dbg *d, Dwarf_Addr addr, unsigned long *off)
{
	GElf_Phdr ph;

	/* uprobe_events' @+OFFSET counts from where the probed segment says the file starts. */
	if (exec_segment(d, addr, 0, &ph))
		return -ERANGE;
	*off = (unsigned long)(addr - (ph.p_vaddr - ph.p_offset));
	return 0;
}
