// SPDX-License-Identifier: MIT
/*
 * What cannot be probed, and the printable views of the registry (the
 * analogues of /sys/kernel/debug/kprobes/{blacklist,list}).
 *
 * A probe on code that the trap path itself runs would trap again inside
 * the trap handler, forever: the library's own text (gathered into one
 * section, pk_text, by the build), the signal return trampoline the kernel
 * sends every handler back through, the libc function the trap path calls
 * once per thread, and the out-of-line slots.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sym/sym.h"

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* the kernel ABI value; glibc does not export it */
#endif

extern char __start_pk_text[] __attribute__((weak));
extern char __stop_pk_text[] __attribute__((weak));

struct bl_entry {
	uintptr_t start, end;
	const char *name;
};

static struct bl_entry bl[8];
static int nr_bl;

static void add(uintptr_t start, uintptr_t end, const char *name)
{
	if (start && end > start && nr_bl < (int)(sizeof(bl) / sizeof(bl[0]))) {
		bl[nr_bl].start = start;
		bl[nr_bl].end = end;
		bl[nr_bl].name = name;
		nr_bl++;
	}
}

int pk_blacklist_init(void)
{
	struct pk_sym_info si;
	struct sigaction sa;

	nr_bl = 0;
	add((uintptr_t)__start_pk_text, (uintptr_t)__stop_pk_text, "probekit");
	/* glibc points sa_restorer of every handler at its __restore_rt. */
	if (sigaction(SIGTRAP, NULL, &sa) == 0 && (sa.sa_flags & SA_RESTORER))
		add((uintptr_t)sa.sa_restorer, (uintptr_t)sa.sa_restorer + 16, "__restore_rt");
	if (pk_sym_lookup("pthread_setspecific", &si) == 0)
		add(si.start, si.start + (si.size ? si.size : 1), "pthread_setspecific");
	return 0;
}

int pk_blacklisted(uintptr_t addr)
{
	int i;

	for (i = 0; i < nr_bl; i++)
		if (addr >= bl[i].start && addr < bl[i].end)
			return 1;
	return pk_slot_base(addr) != NULL || pk_stub_contains(addr);
}

/* snprintf that keeps counting past the end of the buffer. */
static void emit(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void emit(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n;
}

PK_API int pk_show_blacklist(char *buf, size_t size)
{
	size_t len = 0, i;
	uintptr_t s, e;
	int j;

	if (buf && size)
		buf[0] = 0;
	pthread_mutex_lock(&pk_lock);
	if (!nr_bl)
		pk_blacklist_init();
	for (j = 0; j < nr_bl; j++)
		emit(buf, size, &len, "0x%016lx-0x%016lx\t%s\n", (unsigned long)bl[j].start,
		     (unsigned long)bl[j].end, bl[j].name);
	for (i = 0; pk_slot_range(i, &s, &e) == 0; i++)
		emit(buf, size, &len, "0x%016lx-0x%016lx\t[probekit slots]\n", (unsigned long)s,
		     (unsigned long)e);
	pthread_mutex_unlock(&pk_lock);
	return (int)len;
}

struct show_ctx {
	char *buf;
	size_t size, len;
};

static void show_site(struct pk_site *site, void *arg)
{
	struct show_ctx *c = arg;
	struct pk_sym_info si;
	struct pk_probe *p;

	for (p = site->probes; p; p = p->pk_priv.next) {
		char where[256];

		if (p->pk_priv.owner == PK_OWNER_INTERNAL)
			continue;
		if (pk_sym_find(site->addr, &si) == 0)
			snprintf(where, sizeof(where), "%s+0x%lx%s%s%s", si.name,
				 (unsigned long)(site->addr - si.start), si.is_exe ? "" : " [",
				 si.is_exe ? "" : si.object, si.is_exe ? "" : "]");
		else
			snprintf(where, sizeof(where), "0x%lx", (unsigned long)site->addr);
		/* The jump or int3 only says something about an armed site. */
		emit(c->buf, c->size, &c->len, "%016lx  %c  %s%s%s%s%s\n",
		     (unsigned long)site->addr, p->pk_priv.owner ? 'r' : 'k', where,
		     (p->flags & PK_FLAG_DISABLED) ? "  [DISABLED]" : "",
		     !site->armed      ? ""
		     : site->optimized ? "  [OPTIMIZED]"
		     : site->opt_why   ? "  [" ARCH_TRAP_LABEL ": "
				       : "",
		     site->armed && !site->optimized && site->opt_why ? site->opt_why : "",
		     site->armed && !site->optimized && site->opt_why ? "]" : "");
	}
}

PK_API int pk_show_probes(char *buf, size_t size)
{
	struct show_ctx c = {buf, size, 0};

	if (buf && size)
		buf[0] = 0;
	pthread_mutex_lock(&pk_lock);
	pk_sym_refresh();
	pk_site_foreach(show_site, &c);
	pthread_mutex_unlock(&pk_lock);
	return (int)c.len;
}

PK_API void *pk_lookup_name(const char *name)
{
	struct pk_sym_info si;

	if (!name || pk_sym_lookup(name, &si))
		return NULL;
	return (void *)si.start;
}

PK_API int pk_sprint_symbol(char *buf, size_t size, const void *addr)
{
	return pk_sym_sprint(buf, size, (uintptr_t)addr);
}
