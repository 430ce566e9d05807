// SPDX-License-Identifier: MIT
/*
 * Jprobes, as Linux had them until 4.14: a probe at a function's entry whose
 * handler has the function's own prototype and is called with its arguments.
 *
 * The kernel removed them because calling a handler "as the function" from
 * an exception context needed per-arch stack copying, a second breakpoint to
 * get back, and could not be made safe with the function-graph tracer and
 * optimized probes. In a process none of that is special: the pre_handler
 * saves the registers in the thread's frame and points ip at an arch stub,
 * which saves the vector state, moves the stack pointer below a copy of the
 * caller's stack arguments and jumps to the entry handler. Its
 * pk_jprobe_return() restores everything and resumes the function past the
 * probe (its displaced instruction in the site's slot). All of it rides on
 * the pre_handler/regs->ip contract, so it works the same from a trap or
 * from a jump detour.
 *
 * Frames are mapped per thread record on first use (raw mmap: this runs in
 * the trap path) and kept for the record's next thread.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "internal.h"
#include "sym/sym.h"

static int jprobe_pre(struct pk_probe *p, struct pk_regs *regs);

int pk_jprobe_is(const struct pk_probe *p)
{
	return p->pre_handler == jprobe_pre;
}

static struct pk_jframe *frame_of(struct pk_thread *t)
{
	long m;

	if (t->jframe)
		return t->jframe;
	m = pk_syscall6(SYS_mmap, 0, (long)arch_jprobe_frame_size(), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m < 0 && m > -4096)
		return NULL;
	t->jframe = (struct pk_jframe *)m;
	return t->jframe;
}

static int jprobe_pre(struct pk_probe *p, struct pk_regs *regs)
{
	struct pk_jprobe *jp = pk_container_of(p, struct pk_jprobe, kp);
	struct pk_thread *t = pk_thread_get();
	struct pk_jframe *f = t ? frame_of(t) : NULL;

	if (!f)
		goto missed;
	if (f->tid == t->tid && f->skip == arch_regs_ip(regs)) {
		f->skip = 0;
		return 0;
	}
	/* One frame per thread: a nested entry would overwrite the outer one's registers. */
	if (f->active && f->tid == t->tid)
		goto missed;
	f->regs = *regs;
	f->entry = (uintptr_t)jp->entry;
	f->jp = jp;
	f->site = p->pk_priv.site;
	f->skip = 0;
	f->tid = t->tid;
	arch_jprobe_divert(f, regs);
	pk_store(&f->active, 1);
	return 1;
missed:
	pk_inc(&p->nmissed);
	return 0;
}

/* Called by pk_jprobe_return (arch assembly): the frame to restore, ready to resume, or NULL. */
struct pk_jframe *pk_jprobe_finish(void);
struct pk_jframe *pk_jprobe_finish(void)
{
	struct pk_thread *t = pk_thread_get();
	struct pk_jframe *f = t ? t->jframe : NULL;

	if (!f || !f->active)
		return NULL;
	/* A child forked inside the entry handler comes back under its own tid. */
	f->tid = t->tid;
	arch_jprobe_resume(f);
	return f;
}

/* Only a function's first instruction: the entry handler gets the function's arguments. */
static int check_entry(struct pk_jprobe *jp)
{
	struct pk_sym_info si;

	if (!jp->entry || jp->kp.pre_handler || jp->kp.post_handler || jp->kp.fault_handler)
		return -EINVAL;
	if (jp->kp.symbol_name)
		return jp->kp.offset ? -EINVAL : 0;
	if (!jp->kp.addr)
		return -EINVAL;
	pk_sym_refresh();
	if (pk_sym_find((uintptr_t)jp->kp.addr + jp->kp.offset, &si) == 0 &&
	    si.start != (uintptr_t)jp->kp.addr + jp->kp.offset)
		return -EINVAL;
	return 0;
}

static int jprobes_at(const struct pk_site *s)
{
	const struct pk_probe *q;
	int n = 0;

	for (q = s->probes; q; q = q->pk_priv.next)
		n += pk_jprobe_is(q);
	return n;
}

PK_API int pk_register_jprobe(struct pk_jprobe *jp)
{
	int err;

	if (!jp)
		return -EINVAL;
	pthread_mutex_lock(&pk_lock);
	if (pk_probe_is_registered(&jp->kp)) {
		err = -EEXIST;
		goto out;
	}
	if (jp->kp.pre_handler == jprobe_pre)
		jp->kp.pre_handler = NULL; /* registered before, then unregistered */
	err = check_entry(jp);
	if (err)
		goto out;
	jp->kp.pk_priv.owner = NULL;
	jp->kp.pre_handler = jprobe_pre;
	err = pk_register_locked(&jp->kp);
	/* The first one's entry ends with the function running: a second would never run. */
	if (!err && jprobes_at(jp->kp.pk_priv.site) > 1) {
		struct pk_probe *one[1] = {&jp->kp};

		pk_unregister_locked(one, 1);
		err = -EBUSY;
	}
	if (err)
		jp->kp.pre_handler = NULL;
out:
	pthread_mutex_unlock(&pk_lock);
	return err;
}

struct busy_scan {
	struct pk_jprobe **jps;
	int num, busy;
};

static void scan_frame(struct pk_thread *t, void *arg)
{
	struct busy_scan *b = arg;
	struct pk_jframe *f = pk_load(&t->jframe);
	int i, tid = pk_load(&t->tid);

	if (!f || !pk_load(&f->active) || f->tid != tid)
		return;
	/* A thread that died inside an entry handler will not come back. */
	if (pk_sys(SYS_tgkill, pk_sys(SYS_getpid, 0, 0, 0), tid, 0) == -ESRCH)
		return;
	for (i = 0; i < b->num; i++)
		if (b->jps[i] && f->jp == b->jps[i])
			b->busy = 1;
}

/* Up to JP_BATCH at once: the arrays stay on the stack, and the waits are shared. */
#define JP_BATCH 16

static void unregister_batch(struct pk_jprobe **jps, int num)
{
	struct pk_probe *kps[JP_BATCH];
	unsigned int was[JP_BATCH];
	struct busy_scan b = {jps, num, 1};
	struct timespec ms = {0, 1000000};
	int i;

	/*
	 * No new entries first; then out of the dispatcher (a thread there may
	 * be setting up a frame for one of them); then out of every entry
	 * handler, whose way back needs the site's slot.
	 */
	for (i = 0; i < num; i++) {
		kps[i] = jps[i] ? &jps[i]->kp : NULL;
		was[i] = kps[i] ? kps[i]->flags & PK_FLAG_DISABLED : 0;
		if (kps[i])
			pk_disable_probe(kps[i]);
	}
	pthread_mutex_lock(&pk_lock);
	pk_wait_quiescent(NULL, 1);
	pthread_mutex_unlock(&pk_lock);
	while (b.busy) {
		b.busy = 0;
		pk_thread_foreach(scan_frame, &b);
		if (b.busy)
			nanosleep(&ms, NULL);
	}
	pthread_mutex_lock(&pk_lock);
	pk_unregister_locked(kps, num);
	pthread_mutex_unlock(&pk_lock);
	/* Registered disabled or not, as the caller had it. */
	for (i = 0; i < num; i++)
		if (kps[i] && !was[i])
			__atomic_fetch_and(&kps[i]->flags, ~PK_FLAG_DISABLED, __ATOMIC_RELAXED);
}

PK_API void pk_unregister_jprobes(struct pk_jprobe **jps, int num)
{
	int i;

	if (!jps)
		return;
	for (i = 0; i < num; i += JP_BATCH)
		unregister_batch(jps + i, num - i < JP_BATCH ? num - i : JP_BATCH);
}

PK_API void pk_unregister_jprobe(struct pk_jprobe *jp)
{
	pk_unregister_jprobes(&jp, 1);
}

PK_API int pk_register_jprobes(struct pk_jprobe **jps, int num)
{
	int i, err;

	if (!jps || num <= 0)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		err = pk_register_jprobe(jps[i]);
		if (err) {
			pk_unregister_jprobes(jps, i);
			return err;
		}
	}
	return 0;
}
