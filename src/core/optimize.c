// SPDX-License-Identifier: MIT
/*
 * Jump optimization of armed probes: the kernel's optprobes, in user space.
 *
 * A site is armed with an int3 first, always; optimizing replaces that with
 * a jump into a detour (the arch plans it), unoptimizing puts the int3
 * back before the site is disarmed or when a neighbour needs the bytes the
 * jump reads. Both follow the int3-first protocol: with the int3 in place
 * and every core synced, the bytes after it change, the cores sync again,
 * then the first byte. Registration queues sites and the public call
 * flushes the queue, so a batch costs one sync per step, not per probe.
 * What stays an int3 keeps the reason, for the probe list.
 *
 * All of this runs under pk_lock.
 */
#include <stdlib.h>

#include "internal.h"

static int enabled = -1; /* -1: PK_OPTIMIZE not read yet */
static struct pk_site *queue;
unsigned int pk_rethook_vec;

#define MAX_TRUSTED 16
static const void *trusted[MAX_TRUSTED];

int pk_opt_enabled(void)
{
	if (enabled < 0) {
		const char *e = getenv("PK_OPTIMIZE");

		/* Go's goroutine stacks have no room for a detour's frame: see golang.c. */
		enabled = !(e && e[0] == '0' && !e[1]) && !pk_is_go_program();
	}
	return enabled;
}

void pk_opt_queue(struct pk_site *s)
{
	if (s->opt_queued || s->optimized)
		return;
	s->opt_queued = 1;
	s->opt_next = queue;
	queue = s;
}

/* @s is going away before the queue was flushed (a batch rolled back). */
void pk_opt_dequeue(struct pk_site *s)
{
	struct pk_site **pp;

	if (!s->opt_queued)
		return;
	for (pp = &queue; *pp; pp = &(*pp)->opt_next) {
		if (*pp == s) {
			*pp = s->opt_next;
			break;
		}
	}
	s->opt_queued = 0;
}

static void mark(struct pk_site *s, int optimized)
{
	struct pk_probe *p;

	s->optimized = optimized;
	for (p = s->probes; p; p = p->pk_priv.next) {
		if (optimized)
			__atomic_fetch_or(&p->flags, PK_FLAG_OPTIMIZED, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&p->flags, ~PK_FLAG_OPTIMIZED, __ATOMIC_RELAXED);
	}
}

void pk_opt_flush(void)
{
	struct pk_site *s, *next, *batch = NULL;
	int step, wrote;

	if (!queue)
		return;
	/* The int3s of this batch's registrations must be what every core runs. */
	pk_text_sync();
	for (s = queue, queue = NULL; s; s = next) {
		const char *why = NULL;

		next = s->opt_next;
		s->opt_queued = 0;
		if (!s->armed || s->optimized)
			continue;
		if (!pk_opt_enabled()) {
			s->opt_why = "optimization is off";
			continue;
		}
		if (arch_prepare_optimized(s, &why)) {
			s->opt_why = why ? why : "cannot write the jump";
			continue;
		}
		s->opt_next = batch;
		batch = s;
	}
	/* Each step for the whole batch, then one sync; the last step makes the jumps live. */
	for (step = 0; step < ARCH_OPT_STEPS; step++) {
		for (s = batch, wrote = 0; s; s = s->opt_next) {
			if (step == ARCH_OPT_STEPS - 1)
				pk_tsan_release(s);
			wrote |= arch_optimize_step(s, step) > 0;
		}
		if (wrote)
			pk_text_sync();
	}
	for (s = batch; s; s = s->opt_next) {
		s->opt_why = NULL;
		mark(s, 1);
	}
}

void pk_opt_unoptimize(struct pk_site **v, int n)
{
	int i, step, wrote;

	for (step = 0; step < ARCH_OPT_STEPS; step++) {
		for (i = 0, wrote = 0; i < n; i++)
			if (v[i]->optimized)
				wrote |= arch_unoptimize_step(v[i], step) > 0;
		if (wrote)
			pk_text_sync();
	}
	for (i = 0; i < n; i++)
		if (v[i]->optimized)
			mark(v[i], 0);
}

void pk_opt_unshadow(uintptr_t addr)
{
	uintptr_t d;

	for (d = 1; d <= ARCH_OPT_READ_BEHIND && d <= addr; d++) {
		struct pk_site *s = pk_site_lookup(addr - d);

		if (s && arch_opt_reads(s, addr)) {
			pk_opt_unoptimize(&s, 1);
			arch_forget_optimized(s);
			/* Planned again without those bytes (most likely as an int3). */
			if (s->armed)
				pk_opt_queue(s);
		}
	}
}

int pk_opt_check(uintptr_t addr, const char **why)
{
	int err;

	pthread_mutex_lock(&pk_lock);
	err = arch_opt_check(addr, why);
	pthread_mutex_unlock(&pk_lock);
	return err;
}

void pk_vec_trust(const void *fn)
{
	int i;

	for (i = 0; i < MAX_TRUSTED; i++) {
		if (!trusted[i] || trusted[i] == fn) {
			trusted[i] = fn;
			return;
		}
	}
}

int pk_code_uses_vector(const void *fn)
{
	int i;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* The sanitizers' run-time, called from our own hit path, may use any register. */
	(void)i;
	return fn != NULL;
#else
	if (!fn)
		return 0;
	for (i = 0; i < MAX_TRUSTED && trusted[i]; i++)
		if (trusted[i] == fn)
			return 0;
	return arch_code_uses_vector((uintptr_t)fn);
#endif
}

int pk_probe_uses_vector(const struct pk_probe *p)
{
	const void *entry, *ret;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* Our own code of the return trampoline's path is instrumented too. */
	pk_rethook_vec = 1;
#endif
	/* A return handler is its return probe's business (retprobe.c). */
	if (pk_retprobe_handlers(p, &entry, &ret))
		return pk_code_uses_vector(entry);
	return pk_code_uses_vector((const void *)p->pre_handler) ||
	       pk_code_uses_vector((const void *)p->post_handler);
}

struct collect {
	struct pk_site **v;
	int n, cap;
};

static void collect_optimized(struct pk_site *s, void *arg)
{
	struct collect *c = arg;

	if (!s->optimized)
		return;
	if (c->n == c->cap) {
		struct pk_site **g =
		    realloc(c->v, (size_t)(c->cap = c->cap ? 2 * c->cap : 64) * sizeof(*g));

		if (!g)
			return;
		c->v = g;
	}
	c->v[c->n++] = s;
}

static void queue_armed(struct pk_site *s, void *arg)
{
	(void)arg;
	if (s->armed)
		pk_opt_queue(s);
}

/* See probekit.h. */
PK_API int pk_set_optimization(int enable)
{
	int prev;

	pthread_mutex_lock(&pk_lock);
	prev = pk_opt_enabled();
	enabled = !!enable;
	if (!enabled) {
		struct collect c = {0};

		pk_site_foreach(collect_optimized, &c);
		pk_opt_unoptimize(c.v, c.n);
		free(c.v);
		pk_site_foreach(queue_armed, NULL);
	} else {
		pk_site_foreach(queue_armed, NULL);
	}
	pk_opt_flush();
	pthread_mutex_unlock(&pk_lock);
	return prev;
}
