// SPDX-License-Identifier: MIT
/*
 * Uprobe consumers: the kernel's uprobe_register(inode, offset, uc) for a
 * process. A uprobe is a byte of a file (device, inode, offset); it is a
 * probe (and a return probe, once a consumer wants returns) in every mapping
 * of that file here. Mappings come and go with dlopen()/dlclose(): return
 * probes on both rescan /proc/self/maps when they return, in the caller's
 * own context (the return trampoline, not a signal), where registering is
 * safe and the loader holds no lock any more.
 *
 * Writers hold ulock (never taken on the trap path, and taken before
 * pk_lock). Handlers walk a uprobe's consumers without a lock: consumers are
 * published with release stores, and unpublished before a quiescent wait.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

struct umap;

struct uprobe {
	dev_t dev;
	ino_t ino;
	unsigned long offset;
	struct pk_uprobe_consumer *consumers; /* registration order */
	struct umap *maps;
	struct uprobe *next;
};

/* The uprobe in one mapping of its file. */
struct umap {
	struct uprobe *u;
	uintptr_t addr;
	struct pk_probe kp;
	struct pk_retprobe rp;
	int has_rp, seen;
	struct umap *next;
};

static pthread_mutex_t ulock = PTHREAD_MUTEX_INITIALIZER;
static struct uprobe *uprobes;
static struct pk_retprobe dlopen_rp, dlclose_rp;

static int on_hit(struct pk_probe *p, struct pk_regs *regs)
{
	struct umap *m = pk_container_of(p, struct umap, kp);
	struct pk_uprobe_consumer *uc;

	for (uc = pk_load(&m->u->consumers); uc; uc = pk_load(&uc->next))
		if (uc->handler)
			uc->handler(uc, regs);
	return 0;
}

static int on_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct umap *m = pk_container_of(ri->rp, struct umap, rp);
	struct pk_uprobe_consumer *uc;

	for (uc = pk_load(&m->u->consumers); uc; uc = pk_load(&uc->next))
		if (uc->ret_handler)
			uc->ret_handler(uc, m->addr, regs);
	return 0;
}

static int wants_returns(const struct uprobe *u)
{
	const struct pk_uprobe_consumer *uc;

	for (uc = u->consumers; uc; uc = uc->next)
		if (uc->ret_handler)
			return 1;
	return 0;
}

static void map_remove(struct umap *m)
{
	pk_unregister_probe(&m->kp);
	if (m->has_rp)
		pk_unregister_retprobe(&m->rp);
	free(m);
}

static int map_returns(struct umap *m)
{
	int err;

	if (m->has_rp || !wants_returns(m->u))
		return 0;
	m->rp.kp.addr = (void *)m->addr;
	m->rp.handler = on_return;
	err = pk_register_retprobe(&m->rp);
	m->has_rp = !err;
	return err;
}

static int map_add(struct uprobe *u, uintptr_t addr)
{
	struct umap *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	m->u = u;
	m->addr = addr;
	m->seen = 1;
	m->kp.addr = (void *)addr;
	m->kp.pre_handler = on_hit;
	err = pk_register_probe(&m->kp);
	if (!err) {
		err = map_returns(m);
		if (err)
			pk_unregister_probe(&m->kp);
	}
	if (err) {
		free(m);
		return err;
	}
	m->next = u->maps;
	u->maps = m;
	return 0;
}

/* Where @u's byte is mapped executable in this /proc/self/maps line, or 0. */
static uintptr_t map_line_addr(const struct uprobe *u, const char *line)
{
	unsigned long start, end, pgoff, ino;
	unsigned int maj, min;
	char perms[8];

	if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &pgoff, &maj, &min,
		   &ino) != 7)
		return 0;
	if (perms[2] != 'x' || ino != (unsigned long)u->ino || makedev(maj, min) != u->dev)
		return 0;
	if (u->offset < pgoff || u->offset - pgoff >= end - start)
		return 0;
	return start + (u->offset - pgoff);
}

/*
 * Bring @u's probes in line with the mappings: probe new ones, drop those
 * that are gone. Returns the first error of probing a new mapping (the
 * others are still tried), or -errno of reading the maps.
 */
static int sync_maps(struct uprobe *u)
{
	struct umap *m, **pm;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/maps", "re");
	int err = 0;

	if (!f)
		return -errno;
	for (m = u->maps; m; m = m->next)
		m->seen = 0;
	while (getline(&line, &cap, f) > 0) {
		uintptr_t addr = map_line_addr(u, line);
		int e = 0;

		if (!addr)
			continue;
		for (m = u->maps; m && m->addr != addr; m = m->next)
			;
		if (m) {
			m->seen = 1;
			e = map_returns(m);
		} else {
			e = map_add(u, addr);
		}
		if (e && !err)
			err = e;
	}
	free(line);
	fclose(f);
	for (pm = &u->maps; (m = *pm);) {
		if (m->seen) {
			pm = &m->next;
			continue;
		}
		*pm = m->next;
		map_remove(m);
	}
	return err;
}

/*
 * A rescan asked for by a loader hook. The hook runs inside the dispatcher,
 * and a writer holding ulock may be waiting for the dispatcher to drain: the
 * hook never blocks on ulock, it leaves the rescan to whoever holds it.
 */
static int rescan_pending;

static void rescan_all(void)
{
	struct uprobe *u;

	for (u = uprobes; u; u = u->next)
		sync_maps(u);
}

static void ulock_release(void)
{
	for (;;) {
		while (__atomic_exchange_n(&rescan_pending, 0, __ATOMIC_SEQ_CST))
			rescan_all();
		pthread_mutex_unlock(&ulock);
		/* Asked for after our last look: take it back, unless another holder will see it.
		 */
		if (!__atomic_load_n(&rescan_pending, __ATOMIC_SEQ_CST) ||
		    pthread_mutex_trylock(&ulock))
			return;
	}
}

static int on_loader_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	(void)ri;
	(void)regs;
	__atomic_store_n(&rescan_pending, 1, __ATOMIC_SEQ_CST);
	if (!pthread_mutex_trylock(&ulock))
		ulock_release();
	return 0;
}

static void hook_loader(void)
{
	if (pk_probe_is_registered(&dlopen_rp.kp))
		return;
	dlopen_rp.kp.symbol_name = "libc.so.6:dlopen";
	dlopen_rp.handler = on_loader_return;
	dlclose_rp.kp.symbol_name = "libc.so.6:dlclose";
	dlclose_rp.handler = on_loader_return;
	/* A program without the C library's dlopen maps nothing later. */
	pk_register_retprobe(&dlopen_rp);
	pk_register_retprobe(&dlclose_rp);
}

/* Whether @offset of @path lies in an executable PT_LOAD segment: 0 or -EFAULT. */
static int check_exec_offset(const char *path, unsigned long offset)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = -EFAULT;
	unsigned int i;

	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, 4) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph))
		goto out;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_LOAD && offset >= ph.p_offset &&
		    offset < ph.p_offset + ph.p_filesz) {
			err = (ph.p_flags & PF_X) ? 0 : -EFAULT;
			break;
		}
	}
out:
	close(fd);
	return err;
}

static int consumer_registered(const struct pk_uprobe_consumer *uc)
{
	const struct uprobe *u;
	const struct pk_uprobe_consumer *c;

	for (u = uprobes; u; u = u->next)
		for (c = u->consumers; c; c = c->next)
			if (c == uc)
				return 1;
	return 0;
}

static void unlink_consumer(struct uprobe *u, struct pk_uprobe_consumer *uc)
{
	struct pk_uprobe_consumer **pc;

	for (pc = &u->consumers; *pc; pc = &(*pc)->next) {
		if (*pc == uc) {
			/* uc keeps its next pointer: a handler standing on it still walks on. */
			pk_store(pc, uc->next);
			return;
		}
	}
}

/* After the last consumer went: the probes go, then the uprobe. */
static void uprobe_drop(struct uprobe *u)
{
	struct uprobe **pu;
	struct umap *m;

	while ((m = u->maps)) {
		u->maps = m->next;
		map_remove(m);
	}
	for (pu = &uprobes; *pu && *pu != u; pu = &(*pu)->next)
		;
	if (*pu)
		*pu = u->next;
	free(u);
	if (!uprobes) {
		pk_unregister_retprobe(&dlopen_rp);
		pk_unregister_retprobe(&dlclose_rp);
	}
}

/* No thread is in a handler that could still see an unlinked consumer. */
static void wait_handlers(void)
{
	pthread_mutex_lock(&pk_lock);
	pk_wait_quiescent(NULL, 1);
	pthread_mutex_unlock(&pk_lock);
}

PK_API int pk_register_uprobe(const char *path, unsigned long offset, struct pk_uprobe_consumer *uc)
{
	struct uprobe *u;
	struct stat st;
	int err;

	if (!path || !uc || (!uc->handler && !uc->ret_handler))
		return -EINVAL;
	if (stat(path, &st))
		return -errno;
	err = check_exec_offset(path, offset);
	if (err)
		return err;
	pthread_mutex_lock(&ulock);
	if (consumer_registered(uc)) {
		err = -EEXIST;
		goto out;
	}
	for (u = uprobes; u; u = u->next)
		if (u->dev == st.st_dev && u->ino == st.st_ino && u->offset == offset)
			break;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			err = -ENOMEM;
			goto out;
		}
		u->dev = st.st_dev;
		u->ino = st.st_ino;
		u->offset = offset;
		u->next = uprobes;
		uprobes = u;
	}
	uc->next = NULL;
	{
		struct pk_uprobe_consumer **pc = &u->consumers;

		while (*pc)
			pc = &(*pc)->next;
		pk_store(pc, uc);
	}
	err = sync_maps(u);
	if (err) {
		unlink_consumer(u, uc);
		if (!u->consumers)
			uprobe_drop(u);
		else
			wait_handlers();
		goto out;
	}
	hook_loader();
out:
	ulock_release();
	return err;
}

PK_API void pk_unregister_uprobe(const char *path, unsigned long offset,
				 struct pk_uprobe_consumer *uc)
{
	struct uprobe *u;
	struct pk_uprobe_consumer *c;
	struct stat st;
	int by_file;

	if (!uc)
		return;
	/* A file removed since is still found by its consumer. */
	by_file = path && stat(path, &st) == 0;
	pthread_mutex_lock(&ulock);
	for (u = uprobes; u; u = u->next) {
		if (u->offset != offset ||
		    (by_file && (u->dev != st.st_dev || u->ino != st.st_ino)))
			continue;
		for (c = u->consumers; c && c != uc; c = c->next)
			;
		if (c)
			break;
	}
	if (u) {
		unlink_consumer(u, uc);
		if (u->consumers)
			wait_handlers();
		else
			uprobe_drop(u);
	}
	ulock_release();
}
