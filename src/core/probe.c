// SPDX-License-Identifier: MIT
/*
 * The probe registry: sites keyed by address, the probes on each, and the
 * register / unregister / enable / disable API.
 *
 * Writers hold pk_lock. Readers (the trap path) walk the hash chains and the
 * per-site probe lists without a lock: entries are published with release
 * stores and unpublished before a quiescent wait, after which nothing can
 * still see them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "sym/sym.h"

#define HASH_BITS 12
#define HASH_SIZE (1u << HASH_BITS)

pthread_mutex_t pk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pk_site *table[HASH_SIZE];
/* Removed sites kept with their slots after a nested window (see pk_nested_windows). */
static struct pk_site *zombies;
static int initialised;

/* Registration states kept in p->pk_priv.state. */
#define ST_REGISTERED	 0x1u
#define ST_ADDR_FROM_SYM 0x2u

static unsigned int hash_addr(uintptr_t a)
{
	return (unsigned int)((a * 0x9e3779b97f4a7c15ULL) >> (64 - HASH_BITS));
}

struct pk_site *pk_site_lookup(uintptr_t addr)
{
	struct pk_site *s = pk_load(&table[hash_addr(addr)]);

	while (s && s->addr != addr)
		s = pk_load(&s->hnext);
	return s;
}

void pk_site_foreach(void (*fn)(struct pk_site *, void *), void *arg)
{
	unsigned int i;
	struct pk_site *s;

	for (i = 0; i < HASH_SIZE; i++)
		for (s = table[i]; s; s = s->hnext)
			fn(s, arg);
}

static void site_publish(struct pk_site *s)
{
	unsigned int h = hash_addr(s->addr);

	s->hnext = table[h];
	pk_store(&table[h], s);
}

static void site_unpublish(struct pk_site *s)
{
	struct pk_site **pp = &table[hash_addr(s->addr)];

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		pk_store(pp, s->hnext);
}

/* Put back the original bytes of the site at @at over what @buf (code from @addr) shows. */
static void unpatch(const struct pk_site *s, uintptr_t addr, uint8_t *buf, size_t n)
{
	unsigned int i, len = arch_patched_len(s);

	for (i = 0; i < len; i++)
		if (s->addr + i >= addr && s->addr + i < addr + n)
			buf[s->addr + i - addr] = arch_orig_bytes(s)[i];
}

/*
 * A site with no probe of its own, planted by the arch on the instruction
 * after a punned jump that takes that instruction's bytes (eviction):
 * published so that a trap on it finds its slot, never armed, optimized or
 * listed by the registry.
 */
struct pk_site *pk_site_bare(uintptr_t addr, int *err)
{
	struct pk_site *s = calloc(1, sizeof(*s));

	*err = -ENOMEM;
	if (!s)
		return NULL;
	s->addr = addr;
	*err = arch_prepare_probe(s);
	if (*err) {
		free(s);
		return NULL;
	}
	site_publish(s);
	return s;
}

void pk_site_bare_free(struct pk_site *s)
{
	site_unpublish(s);
	pk_wait_quiescent(s, 1);
	if (__atomic_load_n(&pk_nested_windows, __ATOMIC_RELAXED)) {
		s->hnext = zombies;
		zombies = s;
		return;
	}
	arch_remove_probe(s);
	pk_defer_free(s);
}

int pk_read_orig(uintptr_t addr, uint8_t *buf, size_t n)
{
	struct pk_site *s;
	uintptr_t d;
	size_t i;

	if (pk_read_nofault(buf, (const void *)addr, n))
		return -EFAULT;
	/* Armed sites show their trap or jump; decoding must see the code underneath. */
	for (d = 1; d <= ARCH_OPT_READ_BEHIND && d <= addr; d++)
		if ((s = pk_site_lookup(addr - d)))
			unpatch(s, addr, buf, n);
	for (i = 0; i < n; i++)
		if (arch_may_start_site(buf[i]) && (s = pk_site_lookup(addr + i)))
			unpatch(s, addr, buf, n);
	return 0;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&pk_lock);
	pk_sym_atfork(0);
}

static void atfork_parent(void)
{
	pk_sym_atfork(1);
	pthread_mutex_unlock(&pk_lock);
}

static void atfork_child(void)
{
	pk_text_atfork_child();
	pk_sym_atfork(1);
	pthread_mutex_unlock(&pk_lock);
}

static int init_locked(void)
{
	static int atfork_done;
	int err;

	if (initialised)
		return 0;
	pk_thread_init();
	err = arch_init();
	if (err)
		return err;
	err = pk_blacklist_init();
	if (err)
		return err;
	/* Once per load: the engine may be released and initialised again (attach, detach, attach).
	 */
	if (!atfork_done)
		pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	atfork_done = 1;
	initialised = 1;
	arch_init_late();
	return 0;
}

int pk_probe_is_registered(const struct pk_probe *p)
{
	struct pk_site *s;
	struct pk_probe *q;

	if (!p || !(p->pk_priv.state & ST_REGISTERED) || !p->pk_priv.site)
		return 0;
	/* The private fields may be stale copies: trust only the registry. */
	for (s = table[hash_addr((uintptr_t)p->addr)]; s; s = s->hnext)
		if (s == p->pk_priv.site)
			for (q = s->probes; q; q = q->pk_priv.next)
				if (q == p)
					return 1;
	return 0;
}

/* Resolve @p to an address and the function around it; check it may be probed. */
static int resolve(struct pk_probe *p, uintptr_t *addrp)
{
	struct pk_sym_info si;
	uintptr_t addr;
	int err, prot, have_sym;

	if (p->symbol_name && p->addr && (p->pk_priv.state & ST_ADDR_FROM_SYM))
		p->addr = NULL; /* filled by an earlier registration: resolve again */
	if (!!p->symbol_name == !!p->addr)
		return -EINVAL;
	if (p->symbol_name) {
		err = pk_sym_lookup(p->symbol_name, &si);
		if (err)
			return err;
		if (si.size && p->offset >= si.size)
			return -EINVAL;
		addr = si.start + p->offset;
		have_sym = 1;
	} else {
		addr = (uintptr_t)p->addr + p->offset;
		pk_sym_refresh();
		have_sym = pk_sym_find(addr, &si) == 0;
	}
	prot = pk_text_prot(addr);
	if (prot < 0 || !(prot & PROT_EXEC))
		return -EFAULT;
	if (pk_blacklisted(addr))
		return -EINVAL;
	err = pk_boundary_check(addr, have_sym ? &si : NULL);
	if (err)
		return err;
	*addrp = addr;
	return 0;
}

/*
 * The checks of a registration without the registration: whether a probe at
 * @symbol_name (or @addr) would be accepted, for listings.
 * Returns 0 or the errno pk_register_probe() would return.
 */
int pk_probe_check(const char *symbol_name, void *addr)
{
	struct pk_probe p = {.symbol_name = symbol_name, .addr = addr};
	uintptr_t at;
	int err;

	pthread_mutex_lock(&pk_lock);
	err = init_locked();
	if (!err)
		err = resolve(&p, &at);
	if (!err && !pk_site_lookup(at))
		err = arch_can_probe(at);
	pthread_mutex_unlock(&pk_lock);
	return err;
}

static void site_recount(struct pk_site *s)
{
	struct pk_probe *q;
	unsigned int internal = 0;

	s->nr_enabled = 0;
	s->nr_post = 0;
	for (q = s->probes; q; q = q->pk_priv.next) {
		internal += q->pk_priv.owner == PK_OWNER_INTERNAL;
		if (q->flags & PK_FLAG_DISABLED)
			continue;
		s->nr_enabled++;
		if (q->post_handler)
			s->nr_post++;
	}
	__atomic_store_n(&s->nr_internal, internal, __ATOMIC_RELAXED);
}

/* Arm or disarm @s as its enabled probes say; an armed site is queued for the jump. */
static int site_update_arming(struct pk_site *s)
{
	int err = 0;

	site_recount(s);
	if (arch_opt_stale(s)) {
		/* Planned for another set of handlers (post or not): plan again. */
		pk_opt_unoptimize(&s, 1);
		arch_forget_optimized(s);
	}
	if (s->nr_enabled && !s->armed) {
		err = arch_arm_probe(s);
	} else if (!s->nr_enabled && s->armed) {
		pk_opt_unoptimize(&s, 1);
		err = arch_disarm_probe(s);
	}
	if (!err)
		s->armed = s->nr_enabled > 0;
	if (s->armed)
		pk_opt_queue(s);
	return err;
}

int pk_register_locked(struct pk_probe *p)
{
	struct pk_site *s;
	struct pk_probe **pp;
	uintptr_t addr;
	int err;

	err = init_locked();
	if (err)
		return err;
	if (pk_probe_is_registered(p))
		return -EEXIST;
	if (p->flags & ~(PK_FLAG_DISABLED | PK_FLAG_OPTIMIZED))
		return -EINVAL;
	p->flags &= ~PK_FLAG_OPTIMIZED;
	err = resolve(p, &addr);
	if (err)
		return err;

	/*
	 * A neighbour's jump may read or have evicted the instruction here: it
	 * goes back to int3 first (and its evictee's bare site away).
	 */
	pk_opt_unshadow(addr);
	s = pk_site_lookup(addr);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->addr = addr;
		err = arch_prepare_probe(s);
		if (err) {
			free(s);
			return err;
		}
		site_publish(s);
	}
	/* Before @p is visible: a hit that runs its handlers must save what they may use. */
	if (!s->vec && pk_probe_uses_vector(p))
		pk_store(&s->vec, 1);
	/* Before @p is visible too: readers then keep the engine's probes for last. */
	if (p->pk_priv.owner == PK_OWNER_INTERNAL)
		pk_store(&s->nr_internal, s->nr_internal + 1);
	p->pk_priv.next = NULL;
	p->pk_priv.site = s;
	p->pk_priv.state = ST_REGISTERED | (p->symbol_name ? ST_ADDR_FROM_SYM : 0);
	p->addr = (void *)addr;
	p->nmissed = 0;
	/* Before any jprobe: its pre_handler leaves the site, the kernel ran it last. */
	for (pp = &s->probes; *pp && !pk_jprobe_is(*pp); pp = &(*pp)->pk_priv.next)
		;
	p->pk_priv.next = *pp;
	pk_store(pp, p);
	err = site_update_arming(s);
	if (err) {
		struct pk_probe *one[1] = {p};

		pk_unregister_locked(one, 1);
		return err;
	}
	return 0;
}

static void unlink_probe(struct pk_probe *p)
{
	struct pk_site *s = p->pk_priv.site;
	struct pk_probe **pp;

	for (pp = &s->probes; *pp; pp = &(*pp)->pk_priv.next) {
		if (*pp == p) {
			/* p keeps its next pointer: a reader standing on p still walks on. */
			pk_store(pp, p->pk_priv.next);
			break;
		}
	}
	p->pk_priv.state &= ~ST_REGISTERED;
	site_update_arming(s);
	if (!s->probes) {
		pk_opt_dequeue(s);
		site_unpublish(s);
	}
}

void pk_unregister_locked(struct pk_probe **ps, int n)
{
	struct pk_site **dead;
	int i, nd = 0;

	dead = calloc((size_t)(n > 0 ? n : 1), sizeof(*dead));
	/* All the jumps back to int3 in one batch; sites that keep probes are queued again. */
	for (i = 0; i < n && dead; i++)
		if (pk_probe_is_registered(ps[i]) &&
		    ((struct pk_site *)ps[i]->pk_priv.site)->optimized)
			dead[nd++] = ps[i]->pk_priv.site;
	pk_opt_unoptimize(dead, nd);
	nd = 0;
	for (i = 0; i < n; i++) {
		struct pk_probe *p = ps[i];
		struct pk_site *s;

		if (!pk_probe_is_registered(p))
			continue;
		s = p->pk_priv.site;
		unlink_probe(p);
		if (!s->probes && dead)
			dead[nd++] = s;
	}
	if (nd || n) {
		pk_text_sync();
		pk_wait_quiescent(NULL, 1);
	}
	for (i = 0; i < nd; i++) {
		/* Ordered by the barrier of the wait above: only the slots are left to watch. */
		pk_wait_quiescent(dead[i], 0);
		/* A thread may still be headed for this slot with its marker lost: keep it. */
		if (__atomic_load_n(&pk_nested_windows, __ATOMIC_RELAXED)) {
			dead[i]->hnext = zombies;
			zombies = dead[i];
			continue;
		}
		arch_remove_probe(dead[i]);
		/* A thread that took the jump may not have reached the dispatcher yet. */
		pk_defer_free(dead[i]);
	}
	free(dead);
	pk_opt_flush();
}

struct probe_list {
	struct pk_probe **v;
	int n, cap, foreign;
};

static void collect_internal(struct pk_site *s, void *arg)
{
	struct probe_list *l = arg;
	struct pk_probe *p;

	for (p = s->probes; p; p = p->pk_priv.next) {
		if (p->pk_priv.owner != PK_OWNER_INTERNAL) {
			l->foreign++;
			continue;
		}
		if (l->n == l->cap) {
			struct pk_probe **g = realloc(
			    l->v, (size_t)(l->cap = l->cap ? 2 * l->cap : 8) * sizeof(*l->v));

			if (!g) {
				l->foreign++; /* cannot list it: treat the engine as busy */
				continue;
			}
			l->v = g;
		}
		l->v[l->n++] = p;
	}
}

/*
 * Give back everything the engine holds so that its code can be unmapped:
 * the agent calls this when the last tracer detaches, after unregistering
 * its probes. The library's own probes go, then the signal handlers, the
 * slot chunks and the thread key. Refused, with nothing changed that a
 * later registration would not redo, while the engine is still needed.
 *
 * Return: 0; -EBUSY while a probe other than the library's own is
 * registered, a removed site had to be kept (pk_nested_windows), or a frame
 * will still return through the retprobe trampoline; -EAGAIN when a thread
 * may still be about to take a trap (try again); -ENOMEM.
 */
int pk_engine_release(void)
{
	struct probe_list l = {0};
	int err;

	pthread_mutex_lock(&pk_lock);
	if (!initialised) {
		pthread_mutex_unlock(&pk_lock);
		return 0;
	}
	pk_site_foreach(collect_internal, &l);
	err = l.foreign || zombies || __atomic_load_n(&pk_nested_windows, __ATOMIC_RELAXED) ||
		      pk_retprobe_pending()
		  ? -EBUSY
		  : 0;
	if (!err) {
		pk_unregister_locked(l.v, l.n);
		/* Re-registered by the next init should this fail half way. */
		initialised = 0;
		err = pk_wait_traps_delivered(1000);
		if (err == -EBUSY)
			err = -EAGAIN;
	}
	if (!err)
		err = pk_text_release();
	if (!err) {
		arch_release();
		pk_thread_release();
		pk_boundary_release();
		pk_sym_release();
	}
	free(l.v);
	pthread_mutex_unlock(&pk_lock);
	return err;
}

PK_API int pk_register_probe(struct pk_probe *p)
{
	int err;

	if (!p || (!p->pre_handler && !p->post_handler))
		return -EINVAL;
	pthread_mutex_lock(&pk_lock);
	if (!pk_probe_is_registered(p))
		p->pk_priv.owner = NULL;
	err = pk_register_locked(p);
	pk_opt_flush();
	pthread_mutex_unlock(&pk_lock);
	return err;
}

PK_API void pk_unregister_probe(struct pk_probe *p)
{
	pk_unregister_probes(&p, 1);
}

PK_API int pk_register_probes(struct pk_probe **ps, int num)
{
	int i, err;

	if (!ps || num <= 0)
		return -EINVAL;
	/* One lock and one flush: the whole batch takes its jumps with three syncs. */
	pthread_mutex_lock(&pk_lock);
	for (i = 0; i < num; i++) {
		err = ps[i] && (ps[i]->pre_handler || ps[i]->post_handler) ? 0 : -EINVAL;
		if (!err && !pk_probe_is_registered(ps[i]))
			ps[i]->pk_priv.owner = NULL;
		if (!err)
			err = pk_register_locked(ps[i]);
		if (err) {
			pk_unregister_locked(ps, i);
			pthread_mutex_unlock(&pk_lock);
			return err;
		}
	}
	pk_opt_flush();
	pthread_mutex_unlock(&pk_lock);
	return 0;
}

PK_API void pk_unregister_probes(struct pk_probe **ps, int num)
{
	if (!ps || num <= 0)
		return;
	pthread_mutex_lock(&pk_lock);
	pk_unregister_locked(ps, num);
	pthread_mutex_unlock(&pk_lock);
}

static int set_disabled(struct pk_probe *p, int disabled)
{
	int err = -EINVAL;

	pthread_mutex_lock(&pk_lock);
	if (pk_probe_is_registered(p)) {
		if (disabled)
			__atomic_fetch_or(&p->flags, PK_FLAG_DISABLED, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&p->flags, ~PK_FLAG_DISABLED, __ATOMIC_RELAXED);
		err = site_update_arming(p->pk_priv.site);
		pk_opt_flush();
	}
	pthread_mutex_unlock(&pk_lock);
	return err;
}

PK_API int pk_disable_probe(struct pk_probe *p)
{
	return set_disabled(p, 1);
}

PK_API int pk_enable_probe(struct pk_probe *p)
{
	return set_disabled(p, 0);
}
