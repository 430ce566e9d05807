/* SPDX-License-Identifier: MIT */
/*
 * Symbol tables of the loaded objects, published as immutable snapshots.
 *
 * Writers (refresh, lookup, foreach) serialise on a mutex, build a new
 * snapshot next to the current one and publish it with a release store.
 * Readers (find, sprint) run in signal handlers: they take one acquire load
 * of the snapshot pointer and then only read memory that is never written
 * or freed again, so they need neither a lock nor the allocator.
 *
 * Nothing that a snapshot points to is ever freed: a handler interrupted on
 * another thread may still be walking an old snapshot, or the table of an
 * object that has since been dlclose()d, and there is no cheap way to know
 * when it has finished. The leak is bounded by the number of dlopen()s.
 * Old snapshots stay chained to the current one so that they remain
 * reachable and leak checkers do not flag them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "objspec.h"
#include "sym/sym.h"
#include "sbuf.h"
#include "sym/sym_int.h"

struct snap {
	unsigned long long adds;
	unsigned long long subs;
	bool have_counts;
	size_t nobjs;
	struct obj **objs; /* load order, the executable first */
	size_t naddr;
	struct obj **by_addr; /* by lo, only objects with a PT_LOAD */
	struct snap *older;
};

static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snap *cur_snap;
/* Snapshots published: a change means objects were loaded or unloaded. */
static unsigned long generation;

/* ---- snapshots ---- */

struct scan {
	const struct snap *cur;
	struct ent *v;
	size_t n;
	size_t cap;
	unsigned long long adds;
	unsigned long long subs;
	bool have_counts;
	bool started;
	bool unchanged;
	bool nomem;
};

static const char *exe_path(void)
{
	static char path[PATH_MAX];
	static bool done;
	ssize_t n;

	if (!done) {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		path[n > 0 ? n : 0] = '\0';
		done = true;
	}
	return path;
}

static bool covers_vdso(const struct dl_phdr_info *info)
{
	uintptr_t vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	int i;

	if (!vdso)
		return false;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && vdso >= start && vdso - start < ph->p_memsz)
			return true;
	}
	return false;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *sc = arg;
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	bool first = !sc->started, is_vdso;
	struct ent *e;

	if (first) {
		sc->started = true;
		if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
			sc->have_counts = true;
			sc->adds = info->dlpi_adds;
			sc->subs = info->dlpi_subs;
			if (sc->cur && sc->cur->have_counts && sc->cur->adds == sc->adds &&
			    sc->cur->subs == sc->subs) {
				sc->unchanged = true;
				return 1;
			}
		}
	}
	if (!info->dlpi_phnum)
		return 0;
	is_vdso = covers_vdso(info);
	if (!*name && !first && !is_vdso)
		return 0;
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 32;
		struct ent *v = realloc(sc->v, cap * sizeof(*v));

		if (!v) {
			sc->nomem = true;
			return 1;
		}
		sc->v = v;
		sc->cap = cap;
	}
	e = &sc->v[sc->n];
	e->is_exe = first && !*name;
	e->is_vdso = is_vdso;
	e->bias = info->dlpi_addr;
	e->path = strdup(e->is_exe ? exe_path() : is_vdso ? VDSO_NAME : name);
	e->phnum = info->dlpi_phnum;
	/* Copied: the object may be unloaded before we read them. */
	e->phdr = malloc(e->phnum * sizeof(*e->phdr));
	if (!e->path || !e->phdr) {
		free(e->path);
		free(e->phdr);
		sc->nomem = true;
		return 1;
	}
	memcpy(e->phdr, info->dlpi_phdr, e->phnum * sizeof(*e->phdr));
	sc->n++;
	return 0;
}

static int cmp_obj_lo(const void *pa, const void *pb)
{
	const struct obj *a = *(struct obj *const *)pa, *b = *(struct obj *const *)pb;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static struct obj *reuse_obj(const struct snap *s, const struct ent *e)
{
	size_t i;

	for (i = 0; s && i < s->nobjs; i++) {
		struct obj *o = s->objs[i];

		if (o->bias == e->bias && o->is_exe == e->is_exe && !strcmp(o->path, e->path))
			return o;
	}
	return NULL;
}

static int refresh_locked(void)
{
	struct snap *old = cur_snap, *s = NULL;
	struct scan sc = {.cur = old};
	bool *built = NULL;
	size_t i;
	int err = -ENOMEM;

	dl_iterate_phdr(scan_cb, &sc);
	if (sc.unchanged || sc.nomem) {
		err = sc.nomem ? -ENOMEM : 0;
		goto out;
	}
	s = calloc(1, sizeof(*s) + 2 * (sc.n ? sc.n : 1) * sizeof(struct obj *));
	built = calloc(sc.n ? sc.n : 1, sizeof(*built));
	if (!s || !built)
		goto out;
	s->objs = (struct obj **)(s + 1);
	s->by_addr = s->objs + sc.n;
	for (i = 0; i < sc.n; i++) {
		struct obj *o = reuse_obj(old, &sc.v[i]);

		if (!o) {
			err = pk_symtab_build(&sc.v[i], &o);
			if (err)
				goto out;
			built[i] = true;
		}
		s->objs[s->nobjs++] = o;
		if (o->lo < o->hi)
			s->by_addr[s->naddr++] = o;
	}
	qsort(s->by_addr, s->naddr, sizeof(*s->by_addr), cmp_obj_lo);
	s->adds = sc.adds;
	s->subs = sc.subs;
	s->have_counts = sc.have_counts;
	s->older = old;
	__atomic_store_n(&cur_snap, s, __ATOMIC_RELEASE);
	__atomic_fetch_add(&generation, 1, __ATOMIC_RELEASE);
	s = NULL;
	err = 0;
out:
	if (s) {
		/* Never published, so nobody else can be reading these. */
		for (i = 0; i < s->nobjs; i++) {
			if (built[i])
				pk_symtab_free(s->objs[i]);
		}
		free(s);
	}
	free(built);
	for (i = 0; i < sc.n; i++) {
		free(sc.v[i].path);
		free(sc.v[i].phdr);
	}
	free(sc.v);
	return err;
}

int pk_sym_refresh(void)
{
	int err;

	pthread_mutex_lock(&sym_lock);
	err = refresh_locked();
	pthread_mutex_unlock(&sym_lock);
	return err;
}

/* ---- address to symbol: lock-free, allocation-free, no libc calls ---- */

static const struct obj *snap_obj_at(const struct snap *s, uintptr_t addr)
{
	size_t lo = 0, hi = s->naddr, mid;
	const struct obj *o;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->by_addr[mid]->lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	o = s->by_addr[lo - 1];
	return addr < o->hi ? o : NULL;
}

const struct seg *pk_obj_seg_at(const struct obj *o, uintptr_t addr)
{
	size_t i;

	for (i = 0; i < o->nsegs; i++) {
		if (addr >= o->segs[i].start && addr < o->segs[i].end)
			return &o->segs[i];
	}
	return NULL;
}

const struct xsec *pk_obj_xsec_at(const struct obj *o, uintptr_t addr)
{
	size_t i;

	for (i = 0; i < o->nxsecs; i++) {
		if (addr >= o->xsecs[i].start && addr < o->xsecs[i].end)
			return &o->xsecs[i];
	}
	return NULL;
}

/* Whether a size-less symbol at @label may stand for @addr: not across a section. */
static bool same_section(const struct obj *o, uintptr_t label, uintptr_t addr)
{
	const struct xsec *x = pk_obj_xsec_at(o, label);

	/* Without section headers the segment is all there is to go by. */
	return !o->nxsecs || (x && addr < x->end);
}

static bool sym_covers(const struct sym *s, uintptr_t addr)
{
	return s->size && addr - s->addr < s->size;
}

/* How many symbols start at or below @addr. */
static size_t syms_upto(const struct obj *o, uintptr_t addr)
{
	size_t lo = 0, hi = o->nsyms, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (o->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct sym *pk_obj_sym_at(const struct obj *o, const struct seg *seg, uintptr_t addr)
{
	const struct sym *s = o->syms;
	size_t lo = syms_upto(o, addr), i, j, k;

	if (!lo)
		return NULL;
	i = lo - 1;
	/*
	 * The innermost sized symbol that covers addr; maxend stops the walk
	 * as soon as nothing further down can reach addr.
	 */
	for (j = i + 1; j-- > 0 && s[j].maxend > addr;) {
		if (!sym_covers(&s[j], addr))
			continue;
		for (k = j; k > 0 && s[k - 1].addr == s[j].addr; k--)
			;
		while (!sym_covers(&s[k], addr))
			k++;
		return &s[k];
	}
	/* Assembly without .size: trust the nearest label in the same text. */
	for (k = i; k > 0 && s[k - 1].addr == s[i].addr; k--)
		;
	if (!s[k].size && seg->exec && s[k].addr >= seg->start && same_section(o, s[k].addr, addr))
		return &s[k];
	return NULL;
}

void pk_obj_fill_info(struct pk_sym_info *out, const struct obj *o, const struct sym *s)
{
	out->start = s->addr;
	out->size = s->size;
	out->name = s->name;
	out->object = o->base;
	out->path = o->path;
	out->is_exe = o->is_exe;
}

int pk_sym_find(uintptr_t addr, struct pk_sym_info *out)
{
	const struct snap *s = __atomic_load_n(&cur_snap, __ATOMIC_ACQUIRE);
	const struct obj *o;
	const struct seg *seg;
	const struct sym *sym;

	if (!s)
		return -ENOENT;
	o = snap_obj_at(s, addr);
	if (!o)
		return -ENOENT;
	seg = pk_obj_seg_at(o, addr);
	if (!seg)
		return -ENOENT;
	sym = pk_obj_sym_at(o, seg, addr);
	if (!sym)
		return -ENOENT;
	if (out)
		pk_obj_fill_info(out, o, sym);
	return 0;
}

int pk_sym_code_range(uintptr_t addr, struct pk_code_range *r)
{
	const struct snap *s = __atomic_load_n(&cur_snap, __ATOMIC_ACQUIRE);
	const struct obj *o = s ? snap_obj_at(s, addr) : NULL;
	const struct seg *seg = o ? pk_obj_seg_at(o, addr) : NULL;
	const struct xsec *x;
	const struct sym *sym;
	size_t n;

	if (!seg || !seg->exec)
		return -ENOENT;
	x = pk_obj_xsec_at(o, addr);
	r->start = x ? x->start : seg->start;
	r->end = x ? x->end : seg->end;
	r->stride = x ? x->entsize : 0;
	if (x && x->plt)
		return 0;
	sym = pk_obj_sym_at(o, seg, addr);
	if (sym) {
		r->start = sym->addr;
		if (sym->size)
			r->end = sym->addr + sym->size;
		return 0;
	}
	/* Between symbols: the code that follows the last one that ended below. */
	n = syms_upto(o, addr);
	if (n && o->syms[n - 1].maxend > r->start)
		r->start = o->syms[n - 1].maxend;
	if (n < o->nsyms && o->syms[n].addr < r->end)
		r->end = o->syms[n].addr;
	return 0;
}

unsigned long pk_sym_generation(void)
{
	return __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
}

static void put_hex(struct pk_sbuf *b, uintptr_t v)
{
	char digits[2 * sizeof(v)];
	int n = 0;

	pk_sbuf_puts(b, "0x");
	do {
		digits[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n)
		pk_sbuf_putc(b, digits[--n]);
}

int pk_sym_sprint(char *buf, size_t size, uintptr_t addr)
{
	struct pk_sym_info info;

	return pk_sym_format(buf, size, addr, pk_sym_find(addr, &info) ? NULL : &info);
}

int pk_sym_format(char *buf, size_t size, uintptr_t addr, const struct pk_sym_info *sym)
{
	struct pk_sbuf b = {buf, size, 0};

	if (sym) {
		char name[256];

		/* C++ and Rust functions by the names their sources give them. */
		pk_sbuf_puts(&b,
			     pk_demangle_name(sym->name, name, sizeof(name)) ? sym->name : name);
		pk_sbuf_putc(&b, '+');
		put_hex(&b, addr - sym->start);
		pk_sbuf_putc(&b, '/');
		put_hex(&b, sym->size);
		if (!sym->is_exe) {
			pk_sbuf_puts(&b, " [");
			pk_sbuf_puts(&b, sym->object);
			pk_sbuf_putc(&b, ']');
		}
	} else {
		put_hex(&b, addr);
	}
	return pk_sbuf_finish(&b);
}

/* ---- name to symbol ---- */

static bool equal_n(const char *s, const char *spec, size_t len)
{
	return s && !strncmp(s, spec, len) && !s[len];
}

static bool obj_matches(const struct obj *o, const char *spec, size_t len)
{
	const char *dot = strchr(o->base, '.');

	if (equal_n(o->base, spec, len) || equal_n(o->soname, spec, len) ||
	    equal_n(o->path, spec, len))
		return true;
	return dot && (size_t)(dot - o->base) == len && !strncmp(o->base, spec, len);
}

const struct sym *pk_obj_sym_named(const struct obj *o, const char *name)
{
	size_t lo = 0, hi = o->nsyms, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(o->by_name[mid]->name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < o->nsyms && !strcmp(o->by_name[lo]->name, name))
		return o->by_name[lo];
	return NULL;
}

/*
 * "f(int)": an overload by its parameters, which only the C++ runtime's
 * demangler reads; a C++ program has it loaded (nothing is loaded for it).
 */
static bool same_overload(const char *mangled, const char *name)
{
	static char *(*demangle)(const char *, char *, size_t *, int *);
	char *full;
	bool same;
	int st;

	if (!demangle)
		demangle = (char *(*)(const char *, char *, size_t *, int *))dlsym(
		    RTLD_DEFAULT, "__cxa_demangle");
	full = demangle ? demangle(mangled, NULL, NULL, &st) : NULL;
	same = full && !strcmp(full, name);
	free(full);
	return same;
}

/* The first function of @o whose mangled name reads @name, "f" or "f(int)". */
static const struct sym *sym_demangled(const struct obj *o, const char *name)
{
	size_t i, n = strcspn(name, "(");
	char buf[512];

	for (i = 0; i < o->nsyms; i++) {
		const struct sym *s = o->by_name[i];

		if (strncmp(s->name, "_Z", 2))
			continue;
		if (!pk_demangle_name(s->name, buf, sizeof(buf)) && strlen(buf) == n &&
		    !strncmp(buf, name, n) && (!name[n] || same_overload(s->name, name)))
			return s;
	}
	return NULL;
}

/*
 * Run outside sym_lock: dlopen() takes the loader's lock, and a constructor
 * running under that lock may itself be waiting for sym_lock.
 */
static void resolve_ifunc(const struct obj *o, const struct sym *s, struct pk_sym_info *out)
{
	struct snap *snap = __atomic_load_n(&cur_snap, __ATOMIC_ACQUIRE);
	const struct obj *io;
	struct pk_sym_info f;
	void *impl = NULL, *h;

	/*
	 * dlsym() runs the resolver the way the program's relocations did.
	 * Only for exported default-version names: otherwise dlsym() would
	 * find some other definition, or none.
	 */
	if (s->bind != BIND_LOCAL && !(s->flags & SYM_HIDDEN) && !o->is_vdso) {
		h = dlopen(o->is_exe ? NULL : o->path, RTLD_LAZY | RTLD_NOLOAD);
		if (h) {
			impl = dlsym(h, s->name);
			dlclose(h);
		}
	}
	/* x86-64 resolvers take no arguments they need. */
	if (!impl)
		impl = ((void *(*)(void))s->addr)();
	if (!impl)
		return;
	if (!pk_sym_find((uintptr_t)impl, &f) && f.start == (uintptr_t)impl) {
		*out = f;
		return;
	}
	out->start = (uintptr_t)impl;
	out->size = 0;
	io = snap ? snap_obj_at(snap, (uintptr_t)impl) : NULL;
	if (io) {
		out->object = io->base;
		out->path = io->path;
		out->is_exe = io->is_exe;
	}
}

int pk_sym_lookup(const char *spec, struct pk_sym_info *out)
{
	const char *colon, *name = spec, *objspec = NULL;
	const struct obj *o = NULL;
	const struct sym *s = NULL;
	const struct snap *snap;
	size_t objlen = 0, i;
	int err, pass;

	if (!spec || !out)
		return -EINVAL;
	colon = pk_obj_colon(spec);
	if (colon) {
		objspec = spec;
		objlen = (size_t)(colon - spec);
		name = colon + 1;
		if (!objlen || pk_obj_colon(name))
			return -EINVAL;
	}
	if (!*name)
		return -EINVAL;

	pthread_mutex_lock(&sym_lock);
	err = refresh_locked();
	snap = cur_snap;
	/*
	 * A bare name skips the vDSO until last: libc's wrappers are what the
	 * program calls (gettimeofday is an IFUNC that lands in the vDSO).
	 */
	for (pass = 0; !err && !s && pass < 2; pass++) {
		for (i = 0; !s && i < snap->nobjs; i++) {
			o = snap->objs[i];
			if (objspec ? !obj_matches(o, objspec, objlen) || pass
				    : o->is_vdso != (pass == 1))
				continue;
			s = pk_obj_sym_named(o, name);
		}
	}
	/* Not a symbol's own name: a C++ or Rust function by its demangled name. */
	for (i = 0; !err && !s && strncmp(name, "_Z", 2) && i < snap->nobjs; i++) {
		o = snap->objs[i];
		if (!objspec || obj_matches(o, objspec, objlen))
			s = sym_demangled(o, name);
	}
	pthread_mutex_unlock(&sym_lock);
	if (err)
		return err;
	if (!s)
		return -ENOENT;
	pk_obj_fill_info(out, o, s);
	if (s->flags & SYM_IFUNC)
		resolve_ifunc(o, s, out);
	return 0;
}

int pk_sym_foreach(const char *object, int (*fn)(const struct pk_sym_info *, void *), void *arg)
{
	const struct obj *o = NULL;
	struct pk_sym_info info;
	size_t i, len;
	int err;

	if (!object || !fn)
		return -EINVAL;
	len = strlen(object);
	pthread_mutex_lock(&sym_lock);
	err = refresh_locked();
	for (i = 0; !err && !o && i < cur_snap->nobjs; i++) {
		if (obj_matches(cur_snap->objs[i], object, len))
			o = cur_snap->objs[i];
	}
	pthread_mutex_unlock(&sym_lock);
	if (err)
		return err;
	if (!o)
		return -ENOENT;
	/* Unlocked: tables never change, and @fn may well call pk_sym_lookup(). */
	for (i = 0; i < o->nsyms; i++) {
		const struct sym *s = &o->syms[i];

		if (!s->size || (s->flags & (SYM_IFUNC | SYM_DATA)))
			continue;
		pk_obj_fill_info(&info, o, s);
		err = fn(&info, arg);
		if (err)
			return err;
	}
	return 0;
}

static int cmp_ptr(const void *pa, const void *pb)
{
	uintptr_t a = *(const uintptr_t *)pa, b = *(const uintptr_t *)pb;

	return a < b ? -1 : a > b;
}

void pk_sym_release(void)
{
	struct snap *s, *older;
	struct obj **all = NULL;
	size_t n = 0, cap = 0, i;

	pthread_mutex_lock(&sym_lock);
	/* An object is shared by the snapshots taken while it stayed loaded: free it once. */
	for (s = cur_snap; s; s = s->older) {
		for (i = 0; i < s->nobjs; i++) {
			if (n == cap) {
				struct obj **g =
				    realloc(all, (cap = cap ? 2 * cap : 64) * sizeof(*all));

				if (!g) {
					/* Better a leak than a double free. */
					free(all);
					pthread_mutex_unlock(&sym_lock);
					return;
				}
				all = g;
			}
			all[n++] = s->objs[i];
		}
	}
	qsort(all, n, sizeof(*all), cmp_ptr);
	for (i = 0; i < n; i++)
		if (!i || all[i] != all[i - 1])
			pk_symtab_free(all[i]);
	free(all);
	for (s = cur_snap; s; s = older) {
		older = s->older;
		free(s);
	}
	__atomic_store_n(&cur_snap, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sym_lock);
}

/* Called by the registry's fork handlers, after it took its own lock. */
void pk_sym_atfork(int phase)
{
	if (phase == 0)
		pthread_mutex_lock(&sym_lock);
	else
		pthread_mutex_unlock(&sym_lock);
}
