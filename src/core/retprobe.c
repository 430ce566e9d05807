// SPDX-License-Identifier: MIT
/*
 * Return probes.
 *
 * The entry probe swaps the return address on the stack for an assembly
 * trampoline, so the return costs no trap. The real address is kept in an
 * instance on a per-thread list keyed by the stack slot it was taken from:
 * the trampoline finds the instance whose slot is just below the stack
 * pointer it returns with. Frames skipped by longjmp or an exception leave
 * instances whose slot no longer holds the trampoline; those are reclaimed
 * when the thread next enters or leaves a probed function.
 *
 * Instances come from a pool per retprobe (maxactive of them) and go
 * back with lock-free pushes, since both ends run in signal or trampoline
 * context. Without maxactive the pool grows when it runs dry, a chunk at a
 * time into address space reserved up front, so that deep recursion
 * misses no return (instances cost little in user space). A pool outlives its retprobe while calls
 * are still in flight: they return normally, without a handler, and the last one frees it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

struct rp_pool {
	struct pk_retprobe *rp; /* NULL once unregistered */
	unsigned long head;	/* (tag << 32) | (index + 1) of the first free instance, 0: empty */
	unsigned int n;		/* instances made so far */
	unsigned int max;	/* room reserved for this many */
	int growing;
	size_t stride;
	size_t map_size;
	int refs; /* 1 for the registration + 1 per instance in use */
	int vec;  /* the return handler may touch vector state: it is saved around it */
	unsigned int *next_free;
	unsigned char *inst;
};

static struct pk_retprobe_instance *inst_at(struct rp_pool *pool, unsigned int i)
{
	return (struct pk_retprobe_instance *)(pool->inst + (size_t)i * pool->stride);
}

static void pool_unref(struct rp_pool *pool)
{
	if (__atomic_sub_fetch(&pool->refs, 1, __ATOMIC_ACQ_REL) == 0)
		pk_sys(SYS_munmap, pool, pool->map_size, 0);
}

/* Default pools: a first few instances, then chunks of this many, up to ... */
#define POOL_FIRST 64
#define POOL_CHUNK 1024
#define POOL_MAX   65536
/* ... or this much address space. */
#define POOL_MAX_BYTES (256UL << 20)

/* Make instances [pool->n, pool->n + k) and put them on the free list. */
static void pool_add(struct rp_pool *pool, unsigned int k)
{
	unsigned int i, first = pool->n, last = first + k - 1;
	unsigned long old, neu;

	for (i = first; i < last; i++)
		pool->next_free[i] = i + 2;
	for (i = first; i <= last; i++)
		inst_at(pool, i)->pk_pool = pool;
	__atomic_store_n(&pool->n, first + k, __ATOMIC_RELEASE);
	old = __atomic_load_n(&pool->head, __ATOMIC_ACQUIRE);
	do {
		__atomic_store_n(&pool->next_free[last], (unsigned int)(old & 0xffffffffu),
				 __ATOMIC_RELAXED);
		neu = ((old >> 32) + 1) << 32 | (first + 1);
	} while (!__atomic_compare_exchange_n(&pool->head, &old, neu, 1, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
}

/*
 * Ran dry: one thread adds a chunk (the pages are touched now, no system
 * call); the others wait for it, unless the grower is their own thread,
 * interrupted by a signal whose handler came here.
 */
static int pool_grow(struct rp_pool *pool)
{
	unsigned int n = __atomic_load_n(&pool->n, __ATOMIC_ACQUIRE);
	int tid = (int)pk_sys(SYS_gettid, 0, 0, 0), zero = 0, g;

	if (n >= pool->max)
		return 0;
	if (!__atomic_compare_exchange_n(&pool->growing, &zero, tid, 0, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		while ((g = __atomic_load_n(&pool->growing, __ATOMIC_ACQUIRE)) && g != tid)
			pk_sys(SYS_sched_yield, 0, 0, 0);
		return g != tid;
	}
	if (__atomic_load_n(&pool->n, __ATOMIC_ACQUIRE) == n)
		pool_add(pool, pool->max - n < POOL_CHUNK ? pool->max - n : POOL_CHUNK);
	__atomic_store_n(&pool->growing, 0, __ATOMIC_RELEASE);
	return 1;
}

static struct pk_retprobe_instance *pool_get(struct rp_pool *pool)
{
	unsigned long old = __atomic_load_n(&pool->head, __ATOMIC_ACQUIRE), neu;
	unsigned int idx;

	for (;;) {
		idx = (unsigned int)(old & 0xffffffffu);
		if (!idx) {
			if (!pool_grow(pool))
				return NULL;
			old = __atomic_load_n(&pool->head, __ATOMIC_ACQUIRE);
			continue;
		}
		neu = ((old >> 32) + 1) << 32 |
		      __atomic_load_n(&pool->next_free[idx - 1], __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(&pool->head, &old, neu, 1, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			break;
	}
	__atomic_add_fetch(&pool->refs, 1, __ATOMIC_RELAXED);
	return inst_at(pool, idx - 1);
}

static void pool_put(struct pk_retprobe_instance *ri)
{
	struct rp_pool *pool = ri->pk_pool;
	unsigned int idx = (unsigned int)(((unsigned char *)ri - pool->inst) / pool->stride) + 1;
	unsigned long old = __atomic_load_n(&pool->head, __ATOMIC_ACQUIRE), neu;

	do {
		__atomic_store_n(&pool->next_free[idx - 1], (unsigned int)(old & 0xffffffffu),
				 __ATOMIC_RELAXED);
		neu = ((old >> 32) + 1) << 32 | idx;
	} while (!__atomic_compare_exchange_n(&pool->head, &old, neu, 1, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	pool_unref(pool);
}

/*
 * One instance kept per thread between a return and the next entry: a
 * probed function called in a loop then takes and gives back its instance
 * with no atomic operation at all. A cached instance stays counted in its
 * pool's refs. Only the owning thread fills or takes it, from the hit path;
 * unregistration, once no hit can reach the dying pool, takes back those
 * of that pool with a CAS (see uncache()).
 */
static struct pk_retprobe_instance *cache_get(struct pk_thread *t, struct rp_pool *pool)
{
	/*
	 * The pool is compared by the word beside the instance, never through
	 * the instance: one of a dying pool may be taken back and its memory
	 * unmapped under us, but only when it is not the pool being hit.
	 */
	if (__atomic_load_n(&t->ri_cache_pool, __ATOMIC_ACQUIRE) == pool) {
		struct pk_retprobe_instance *ri = t->ri_cache;

		__atomic_store_n(&t->ri_cache_pool, NULL, __ATOMIC_RELAXED);
		return ri;
	}
	return pool_get(pool);
}

static void cache_put(struct pk_thread *t, struct pk_retprobe_instance *ri)
{
	struct rp_pool *pool = ri->pk_pool;

	/* Acquire: after a remover took the last one back, its read is before our write. */
	if (!__atomic_load_n(&t->ri_cache_pool, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&pool->rp, __ATOMIC_ACQUIRE)) {
		t->ri_cache = ri;
		__atomic_store_n(&t->ri_cache_pool, pool, __ATOMIC_RELEASE);
	} else {
		pool_put(ri);
	}
}

/* Take back @t's cached instance of @pool (any pool if NULL: the thread is exiting). */
static void uncache_thread(struct pk_thread *t, void *pool)
{
	void *cur = __atomic_load_n(&t->ri_cache_pool, __ATOMIC_ACQUIRE);
	struct pk_retprobe_instance *ri;

	if (!cur || (pool && cur != pool))
		return;
	/* Set before the pool word (release), and stable while it holds a dying pool. */
	ri = t->ri_cache;
	if (__atomic_compare_exchange_n(&t->ri_cache_pool, &cur, NULL, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED))
		pool_put(ri);
}

/* @n instances now, room for @max (>= @n): pages are only backed once used. */
static struct rp_pool *pool_create(struct pk_retprobe *rp, unsigned int n, unsigned int max)
{
	size_t stride = (sizeof(struct pk_retprobe_instance) + rp->data_size + 15) & ~(size_t)15;
	size_t hdr = (sizeof(struct rp_pool) + max * sizeof(unsigned int) + 63) & ~(size_t)63;
	size_t size = (hdr + stride * max + 4095) & ~(size_t)4095;
	struct rp_pool *pool;

	/* mmap, not malloc: the last reference may drop in a trampoline. */
	pool = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | (max > n ? MAP_NORESERVE : 0), -1, 0);
	if (pool == MAP_FAILED)
		return NULL;
	pool->rp = rp;
	pool->max = max;
	pool->stride = stride;
	pool->map_size = size;
	pool->refs = 1;
	pool->next_free = (unsigned int *)(pool + 1);
	pool->inst = (unsigned char *)pool + hdr;
	if (n)
		pool_add(pool, n);
	return pool;
}

static int slot_holds_trampoline(unsigned long frame)
{
	const unsigned long *slot = arch_rethook_slot(frame);
	unsigned long v;

	return slot && pk_read_nofault(&v, slot, sizeof(v)) == 0 && v == arch_rethook_trampoline();
}

/*
 * Instances reclaimed while their slot might still be returned through
 * (see reclaim_stale), newest last: a ring shared by all threads, read only
 * when the trampoline finds no instance for a return.
 */
#define NR_GRAVES 16384
struct grave {
	int tid;
	unsigned long slot;
	unsigned long ret_addr;
};
static struct grave graves[NR_GRAVES];
static unsigned long nr_buried;

static void bury(const struct pk_thread *t, const struct pk_retprobe_instance *ri)
{
	struct grave *g = &graves[__atomic_fetch_add(&nr_buried, 1, __ATOMIC_RELAXED) % NR_GRAVES];

	__atomic_store_n(&g->tid, 0, __ATOMIC_RELEASE);
	g->slot = ri->pk_sp;
	g->ret_addr = (unsigned long)ri->ret_addr;
	__atomic_store_n(&g->tid, t->tid, __ATOMIC_RELEASE);
}

static unsigned long exhume(const struct pk_thread *t, unsigned long slot)
{
	unsigned long n = __atomic_load_n(&nr_buried, __ATOMIC_ACQUIRE), i;

	for (i = 0; i < NR_GRAVES && i < n; i++) {
		const struct grave *g = &graves[(n - 1 - i) % NR_GRAVES];

		/* A grave of a chained retprobe returns to the trampoline: look deeper. */
		if (__atomic_load_n(&g->tid, __ATOMIC_ACQUIRE) == t->tid && g->slot == slot &&
		    g->ret_addr != arch_rethook_trampoline())
			return g->ret_addr;
	}
	return 0;
}

/*
 * Drop the instances of frames that are gone: those whose slot is below
 * @limit, the slot of the frame that is live now, and one at @limit whose
 * slot no longer holds the trampoline (the new call has just written its
 * own return address there; several retprobes on one function instead
 * leave the trampoline there for each other). That is exact for frames that
 * longjmp skipped. A frame live on another stack (a signal or coroutine
 * stack below this one) would be dropped too, so every dropped instance is
 * buried: should its frame return after all, the trampoline still finds
 * where to go, and only the handler call is lost.
 */
static void reclaim_stale(struct pk_thread *t, unsigned long limit)
{
	struct pk_retprobe_instance **pp = &t->ri;

	while (*pp) {
		struct pk_retprobe_instance *ri = *pp;

		if (ri->pk_sp < limit || (ri->pk_sp == limit && arch_rethook_slot(limit) &&
					  *arch_rethook_slot(limit) != arch_rethook_trampoline())) {
			*pp = ri->pk_next;
			bury(t, ri);
			pool_put(ri);
		} else {
			pp = &ri->pk_next;
		}
	}
}

static int rp_pre_handler(struct pk_probe *p, struct pk_regs *regs)
{
	struct pk_retprobe *rp = pk_container_of(p, struct pk_retprobe, kp);
	struct rp_pool *pool = rp->pk_priv.pool;
	struct pk_thread *t = pk_thread_get();
	struct pk_retprobe_instance *ri;
	unsigned long *slot = arch_rethook_entry_slot(regs), frame = arch_rethook_frame(regs);

	if (!t)
		return 0;
	reclaim_stale(t, frame);
	ri = cache_get(t, pool);
	if (!ri) {
		pk_inc(&rp->nmissed);
		return 0;
	}
	ri->rp = rp;
	ri->ret_addr = (void *)*slot;
	ri->pk_sp = frame;
	if (rp->entry_handler && rp->entry_handler(ri, regs)) {
		cache_put(t, ri);
		return 0;
	}
	ri->pk_next = t->ri_pending;
	t->ri_pending = ri;
	return 0;
}

void pk_retprobe_commit(struct pk_thread *t, struct pk_regs *regs)
{
	struct pk_retprobe_instance *ri, *next, *order = NULL;

	/* Taken in registration order, so returns run handlers newest first, as before. */
	for (ri = t->ri_pending; ri; ri = next) {
		next = ri->pk_next;
		ri->pk_next = order;
		order = ri;
	}
	t->ri_pending = NULL;
	for (ri = order; ri; ri = next) {
		unsigned long *slot = arch_rethook_slot(ri->pk_sp);

		next = ri->pk_next;
		/* A handler that overrode the return (fault injection) has left the function. */
		if (arch_rethook_frame(regs) != ri->pk_sp) {
			cache_put(t, ri);
			continue;
		}
		ri->ret_addr = (void *)*slot;
		*slot = arch_rethook_trampoline();
		ri->pk_next = t->ri;
		t->ri = ri;
	}
}

int pk_rethook_dispatch(void *unused, struct pk_regs *regs)
{
	struct pk_thread *t = pk_thread_get();
	unsigned long sp0 = arch_regs_sp(regs), slot = arch_rethook_frame_returned(regs);
	struct pk_retprobe_instance **pp, *ri;
	struct pk_retprobe *rp;

	(void)unused;
	pk_thread_enter(t);
	for (pp = t ? &t->ri : NULL; pp && *pp && (*pp)->pk_sp != slot; pp = &(*pp)->pk_next)
		;
	if (!pp || !*pp) {
		arch_regs_set_ip(regs, t ? exhume(t, slot) : 0);
		/* With no return address for this frame there is nothing sane to resume. */
		if (!arch_regs_ip(regs))
			__builtin_trap();
		reclaim_stale(t, slot - 1);
		pk_thread_exit(t);
		return 1;
	}
	ri = *pp;
	*pp = ri->pk_next;
	arch_regs_set_ip(regs, (unsigned long)ri->ret_addr);
	rp = __atomic_load_n(&((struct rp_pool *)ri->pk_pool)->rp, __ATOMIC_ACQUIRE);
	if (rp && rp->handler && !t->depth) {
		t->depth++;
		/* Only this return probe's handler decides: the trampoline saved no vector state.
		 */
		if (((struct rp_pool *)ri->pk_pool)->vec)
			pk_vec_call((const void *)rp->handler, ri, regs);
		else
			rp->handler(ri, regs);
		t->depth--;
	}
	cache_put(t, ri);
	/* Chained retprobes on this frame keep their instances at this very slot. */
	reclaim_stale(t, slot - 1);
	pk_thread_exit(t);
	return pk_arch_fast_resume(regs, sp0);
}

static void put_list(struct pk_retprobe_instance **head)
{
	while (*head) {
		struct pk_retprobe_instance *ri = *head;

		*head = ri->pk_next;
		pool_put(ri);
	}
}

void pk_retprobe_thread_exit(struct pk_thread *t)
{
	put_list(&t->ri);
	put_list(&t->parked);
	uncache_thread(t, NULL);
}

static void count_thread(struct pk_thread *t, void *arg)
{
	unsigned int *n = arg;
	struct pk_retprobe_instance *ri = __atomic_load_n(&t->ri, __ATOMIC_ACQUIRE), cur;
	int steps;

	if (__atomic_load_n(&t->parked, __ATOMIC_ACQUIRE))
		(*n)++;
	/* Another thread's list, popped as we read it: every read may fault. */
	for (steps = 0; ri && steps < 100000; steps++, ri = cur.pk_next) {
		if (pk_read_nofault(&cur, ri, sizeof(cur)))
			break;
		if (slot_holds_trampoline(cur.pk_sp))
			(*n)++;
	}
}

/*
 * Frames that will still return through the trampoline: live instances
 * whose slot holds it, and buried ones whose thread lives and whose slot
 * still holds it. Until there are none the engine's code must stay.
 */
unsigned int pk_retprobe_pending(void)
{
	unsigned int pending = 0;
	unsigned long n = __atomic_load_n(&nr_buried, __ATOMIC_ACQUIRE), i;

	pk_thread_foreach(count_thread, &pending);
	for (i = 0; i < NR_GRAVES && i < n; i++) {
		const struct grave *g = &graves[i];
		int tid = __atomic_load_n(&g->tid, __ATOMIC_ACQUIRE);

		if (tid && pk_sys(SYS_tgkill, pk_sys(SYS_getpid, 0, 0, 0), tid, 0) != -ESRCH &&
		    slot_holds_trampoline(g->slot))
			pending++;
	}
	return pending;
}

uintptr_t pk_retprobe_real_ret(uintptr_t slot, uintptr_t value)
{
	const struct pk_thread *t = pk_thread_self;
	const struct pk_retprobe_instance *ri;

	if (value != arch_rethook_trampoline() || !t)
		return value;
	/* The newest instance at that slot; chained retprobes return to the trampoline. */
	for (ri = t->ri; ri; ri = ri->pk_next)
		if (ri->pk_sp == slot && (uintptr_t)ri->ret_addr != value)
			return (uintptr_t)ri->ret_addr;
	return value;
}

/*
 * An exception or a forced unwind walks the stack by return addresses; one
 * pointing at the trampoline has no unwind info and would end the program.
 * Put the real addresses back before the unwinder starts, and park the
 * instances: when a catch handler begins, the frames above it are still
 * there and get their trampoline back; the ones the exception unwound are
 * gone, and their return events with them.
 */
static int unwind_pre_handler(struct pk_probe *p, struct pk_regs *regs)
{
	struct pk_thread *t = pk_thread_get();

	(void)p;
	(void)regs;
	if (!t)
		return 0;
	while (t->ri) {
		struct pk_retprobe_instance *ri = t->ri;

		t->ri = ri->pk_next;
		if (slot_holds_trampoline(ri->pk_sp)) {
			*arch_rethook_slot(ri->pk_sp) = (unsigned long)ri->ret_addr;
			ri->pk_next = t->parked;
			t->parked = ri;
		} else {
			pool_put(ri);
		}
	}
	return 0;
}

/* Insert keeping the list ordered by slot, deepest (lowest) first. */
static void insert_by_sp(struct pk_thread *t, struct pk_retprobe_instance *ri)
{
	struct pk_retprobe_instance **pp = &t->ri;

	while (*pp && (*pp)->pk_sp < ri->pk_sp)
		pp = &(*pp)->pk_next;
	ri->pk_next = *pp;
	*pp = ri;
}

static int begin_catch_pre_handler(struct pk_probe *p, struct pk_regs *regs)
{
	struct pk_thread *t = pk_thread_get();
	unsigned long v;

	(void)p;
	if (!t)
		return 0;
	while (t->parked) {
		struct pk_retprobe_instance *ri = t->parked;

		t->parked = ri->pk_next;
		/* Above the catching frame and untouched since we restored it: still live. */
		if (ri->pk_sp > arch_rethook_frame(regs) && arch_rethook_slot(ri->pk_sp) &&
		    pk_read_nofault(&v, arch_rethook_slot(ri->pk_sp), sizeof(v)) == 0 &&
		    v == (unsigned long)ri->ret_addr) {
			*arch_rethook_slot(ri->pk_sp) = arch_rethook_trampoline();
			insert_by_sp(t, ri);
		} else {
			pool_put(ri);
		}
	}
	return 0;
}

#define UNWIND_HOOK(sym, fn)                                                                       \
	{                                                                                          \
		.symbol_name = sym, .pre_handler = fn, .pk_priv.owner = PK_OWNER_INTERNAL          \
	}
static struct pk_probe unwind_probes[] = {
    UNWIND_HOOK("libgcc_s.so.1:_Unwind_RaiseException", unwind_pre_handler),
    UNWIND_HOOK("libgcc_s.so.1:_Unwind_ForcedUnwind", unwind_pre_handler),
    UNWIND_HOOK("libgcc_s.so.1:_Unwind_Resume_or_Rethrow", unwind_pre_handler),
    UNWIND_HOOK("libstdc++.so.6:__cxa_begin_catch", begin_catch_pre_handler),
};

static void hook_unwinder_locked(void)
{
	size_t i;

	for (i = 0; i < sizeof(unwind_probes) / sizeof(unwind_probes[0]); i++)
		if (!pk_probe_is_registered(&unwind_probes[i]))
			pk_register_locked(
			    &unwind_probes[i]); /* absent libgcc_s: nothing to guard */
}

int pk_retprobe_handlers(const struct pk_probe *p, const void **entry, const void **ret)
{
	const struct pk_retprobe *rp;

	if (p->pre_handler != rp_pre_handler)
		return 0;
	rp = pk_container_of(p, struct pk_retprobe, kp);
	*entry = (const void *)rp->entry_handler;
	*ret = (const void *)rp->handler;
	return 1;
}

static int register_one_locked(struct pk_retprobe *rp)
{
	unsigned int n, max;
	struct rp_pool *pool;
	int err;

	if (!rp || (!rp->handler && !rp->entry_handler) || rp->maxactive < 0 ||
	    rp->data_size > 65536 || rp->kp.offset)
		return -EINVAL;
	if (pk_probe_is_registered(&rp->kp))
		return -EEXIST;
	n = max = (unsigned int)rp->maxactive;
	if (!n) {
		size_t stride = sizeof(struct pk_retprobe_instance) + rp->data_size + 16;

		n = POOL_FIRST;
		max = POOL_MAX_BYTES / stride < POOL_MAX ? (unsigned int)(POOL_MAX_BYTES / stride)
							 : POOL_MAX;
	}
	pool = pool_create(rp, n, max);
	if (!pool)
		return -ENOMEM;
	pool->vec = pk_code_uses_vector((const void *)rp->handler);
	rp->pk_priv.pool = pool;
	rp->nmissed = 0;
	rp->kp.pre_handler = rp_pre_handler;
	rp->kp.post_handler = NULL;
	rp->kp.pk_priv.owner = rp;
	err = pk_register_locked(&rp->kp);
	if (err) {
		rp->pk_priv.pool = NULL;
		pool_unref(pool);
		return err;
	}
	hook_unwinder_locked();
	return 0;
}

static void unregister_locked(struct pk_retprobe **rps, int num)
{
	struct pk_probe **kps = calloc((size_t)(num > 0 ? num : 1), sizeof(*kps));
	int i;

	if (!kps) {
		for (i = 0; i < num; i++)
			unregister_locked(&rps[i], 1);
		return;
	}
	for (i = 0; i < num; i++)
		kps[i] = rps[i] ? &rps[i]->kp : NULL;
	for (i = 0; i < num; i++)
		if (rps[i] && pk_probe_is_registered(kps[i]))
			__atomic_store_n(&((struct rp_pool *)rps[i]->pk_priv.pool)->rp, NULL,
					 __ATOMIC_RELEASE);
	/* Also waits for trampolines that already loaded rp. */
	pk_unregister_locked(kps, num);
	/* No hit can take or cache an instance of these pools any more. */
	for (i = 0; i < num; i++)
		if (rps[i] && rps[i]->pk_priv.pool && !pk_probe_is_registered(kps[i]))
			pk_thread_foreach(uncache_thread, rps[i]->pk_priv.pool);
	for (i = 0; i < num; i++) {
		if (rps[i] && rps[i]->pk_priv.pool && !pk_probe_is_registered(kps[i])) {
			pool_unref(rps[i]->pk_priv.pool);
			rps[i]->pk_priv.pool = NULL;
		}
	}
	free(kps);
}

PK_API int pk_register_retprobe(struct pk_retprobe *rp)
{
	int err;

	pthread_mutex_lock(&pk_lock);
	err = register_one_locked(rp);
	pk_opt_flush();
	pthread_mutex_unlock(&pk_lock);
	return err;
}

PK_API void pk_unregister_retprobe(struct pk_retprobe *rp)
{
	pk_unregister_retprobes(&rp, 1);
}

PK_API int pk_register_retprobes(struct pk_retprobe **rps, int num)
{
	int i, err;

	if (!rps || num <= 0)
		return -EINVAL;
	pthread_mutex_lock(&pk_lock);
	for (i = 0; i < num; i++) {
		err = register_one_locked(rps[i]);
		if (err) {
			unregister_locked(rps, i);
			pthread_mutex_unlock(&pk_lock);
			return err;
		}
	}
	pk_opt_flush();
	pthread_mutex_unlock(&pk_lock);
	return 0;
}

PK_API void pk_unregister_retprobes(struct pk_retprobe **rps, int num)
{
	if (!rps || num <= 0)
		return;
	pthread_mutex_lock(&pk_lock);
	unregister_locked(rps, num);
	pthread_mutex_unlock(&pk_lock);
}

PK_API int pk_disable_retprobe(struct pk_retprobe *rp)
{
	return rp ? pk_disable_probe(&rp->kp) : -EINVAL;
}

PK_API int pk_enable_retprobe(struct pk_retprobe *rp)
{
	return rp ? pk_enable_probe(&rp->kp) : -EINVAL;
}
