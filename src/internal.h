/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces between the generic core (src/core), the code patcher
 * (src/text), symbols (src/sym) and the architecture (src/arch/$ARCH).
 * Generic code never tests the architecture: it calls the arch_* contract
 * of src/arch/arch.h, which src/arch/$ARCH implements.
 */
#ifndef PK_INTERNAL_H
#define PK_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "probekit.h"
#include "hstack.h"
#include "arch/arch.h"
#include "arch_site.h"

#define PK_IE __attribute__((tls_model("initial-exec")))

#define pk_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define pk_load(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define pk_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define pk_inc(p)      __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

/*
 * Orderings that ThreadSanitizer cannot see, declared to it: a site reaches
 * a jump-optimized hit through code bytes written via /proc/self/mem, and
 * its memory is freed after a grace period read from /proc. The hit path
 * acquires the site on entry and releases it on exit; the optimizer
 * releases it before the jump goes live; the free acquires it.
 */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define pk_tsan_acquire(p) __tsan_acquire((void *)(p))
#define pk_tsan_release(p) __tsan_release((void *)(p))
#else
#define pk_tsan_acquire(p) ((void)(p))
#define pk_tsan_release(p) ((void)(p))
#endif

/*
 * A probed address. Every probe registered there hangs off one site (the
 * kernel's aggregate kprobe); the site owns the displaced instruction and
 * its out-of-line slot.
 */
struct pk_site {
	/*
	 * First, at a fixed offset: entry.S reads it on every hit. Non-zero
	 * when some handler here may touch vector or x87 state, so that the
	 * detour and the post stub save the extended state around the call.
	 */
	unsigned int vec;
	uintptr_t addr;
	struct pk_probe *probes; /* registration order; readers walk it lock-free */
	struct pk_site *hnext;	 /* hash chain */
	unsigned int nr_enabled;
	unsigned int nr_post;	  /* enabled probes with a post_handler */
	unsigned int nr_internal; /* the engine's own probes (run after the program's) */
	int armed;
	int optimized;		  /* the jump is in place (PK_FLAG_OPTIMIZED) */
	int opt_queued;		  /* on the optimizer's list */
	const char *opt_why;	  /* why it is not optimized, or NULL */
	struct pk_site *opt_next; /* the optimizer's list */
	struct pk_arch_site arch;
};
_Static_assert(offsetof(struct pk_site, vec) == 0, "entry.S reads pk_site.vec at offset 0");

/* Per-thread state, in a pool that signal handlers can claim without malloc. */
struct pk_thread {
	/*
	 * Top of this record's handler stack: handlers, their callees and
	 * the saved vector state run there, not on the program's stack
	 * (which may be a small coroutine stack). Kept for the record's next
	 * thread; 0 if it could not be mapped (the program's stack is used).
	 */
	uintptr_t hstack;
	int tid;			 /* 0: free */
	unsigned long seq;		 /* odd while the thread is inside the dispatcher */
	int nest;			 /* dispatcher entries on this thread's stack */
	uintptr_t *ool;			 /* that thread's pk_ool, see below */
	int depth;			 /* >0 while running a handler: nested hits are missed */
	struct pk_retprobe_instance *ri; /* live return instances, newest first */
	struct pk_retprobe_instance *ri_pending; /* entered at this hit, return not yet taken */
	struct pk_retprobe_instance *parked;   /* taken off the stack while an exception unwinds */
	struct pk_retprobe_instance *ri_cache; /* a free instance kept for the next entry... */
	void *ri_cache_pool;		       /* ...of this pool; NULL: none kept */
	struct pk_jframe *jframe; /* jprobe.c's save area; kept for the record's next thread */
};

/* entry.S: run fn(arg) on the calling thread's handler stack. */
long pk_on_hstack(long (*fn)(void *), void *arg);
_Static_assert(offsetof(struct pk_thread, hstack) == 0,
	       "entry.S reads pk_thread.hstack at offset 0");

/*
 * The site whose out-of-line slot this thread is running, or 0. Set by the
 * trap handler, cleared by the slot's tail (or the post dispatcher), so that
 * removing a site can wait until no thread is still inside its slot.
 */
extern __thread uintptr_t pk_ool PK_IE;
/*
 * Times a probe was hit inside such a window (from a signal handler): the
 * outer slot's marker is then lost, so from that moment removed sites and
 * their slots are kept rather than freed or reused. Rare, bounded, safe.
 */
extern unsigned long pk_nested_windows;

/* pk_priv.owner of the library's own probes: not listed, not user-visible. */
#define PK_OWNER_INTERNAL ((void *)1)

/* core/thread.c */
extern __thread struct pk_thread *pk_thread_self PK_IE;
extern int pk_asym_fence;
struct pk_thread *pk_thread_claim(void);

/* Inline: every hit runs these, and a jump-optimized hit costs nanoseconds. */
static inline struct pk_thread *pk_thread_get(void)
{
	struct pk_thread *t = pk_thread_self;

	return __builtin_expect(t != NULL, 1) ? t : pk_thread_claim();
}

static inline void pk_thread_enter(struct pk_thread *t)
{
	/* A probe hit from inside a handler nests: only the outermost entry counts. */
	if (!t || t->nest++)
		return;
	__atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELAXED);
	/*
	 * Pairs with pk_wait_quiescent: a remover sees us, or we see its
	 * removal. Its membarrier() is our fence (see thread.c).
	 */
	if (__builtin_expect(pk_asym_fence, 1))
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void pk_thread_exit(struct pk_thread *t)
{
	if (!t || --t->nest)
		return;
	__atomic_store_n(&t->seq, t->seq + 1, __ATOMIC_RELEASE);
}
/* Wait until no other thread is in the dispatcher, or in @site's slot (if @site). */
/*
 * @barrier: 0 only right after a wait with one, the same removal's: the
 * membarrier that orders readers' entries costs a system call and IPIs.
 */
void pk_wait_quiescent(const struct pk_site *site, int barrier);
void pk_thread_init(void);
void pk_thread_foreach(void (*fn)(struct pk_thread *, void *), void *arg);
int pk_wait_traps_delivered(int max_ms);

/* A grace period over the process's other threads (thread.c). */
struct pk_grace_task {
	int tid;
	int passed;
	int trap_pending;
	unsigned long long ticks, switches;
};
struct pk_grace {
	struct pk_grace_task *v;
	size_t n;
};
int pk_grace_start(struct pk_grace *g);
/* 1 once every thread has passed (and, with @need_no_trap, has no SIGTRAP pending). */
int pk_grace_passed(struct pk_grace *g, int need_no_trap);
void pk_grace_end(struct pk_grace *g);
void pk_thread_release(void);
int pk_tls_ool_offset(void);

/* core/probe.c */
extern pthread_mutex_t pk_lock;
struct pk_site *pk_site_lookup(uintptr_t addr);
int pk_read_orig(uintptr_t addr, uint8_t *buf, size_t n);
/*
 * core/exits.c: the exits of the function named @spec (or starting at @addr):
 * their count, with the addresses in *@out (malloc'd) and the function in
 * *@start; 0 when it has none, -ENOENT no such symbol, -EINVAL not a
 * function's start or no size known, -EILSEQ, -EFAULT, -ENOMEM.
 */
int pk_func_exits(const char *spec, uintptr_t addr, uintptr_t *start, uintptr_t **out);
/* core/golang.c: whether the executable is a Go program (see there for what changes). */
extern int pk_go_program;
int pk_is_go_program(void);
struct pk_site *pk_site_bare(uintptr_t addr, int *err);
void pk_site_bare_free(struct pk_site *s);
int pk_register_locked(struct pk_probe *p);
void pk_unregister_locked(struct pk_probe **ps, int n);
int pk_probe_is_registered(const struct pk_probe *p);
int pk_probe_check(const char *symbol_name, void *addr);
int pk_engine_release(void);
void pk_site_foreach(void (*fn)(struct pk_site *, void *), void *arg);

/* core/dispatch.c: called by the arch trap code (the hit's two halves are in dispatch.h) */
void pk_dispatch_missed(struct pk_site *site);
int pk_dispatch_fault(struct pk_site *site, struct pk_regs *regs, int signo, struct pk_thread *t);

/* core/retprobe.c */
/* From the trampoline; non-zero when its fast exit can resume @regs. */
int pk_rethook_dispatch(void *unused, struct pk_regs *regs);
void pk_retprobe_thread_exit(struct pk_thread *t);
/* Take over the return addresses of the instances this hit's entry handlers made. */
void pk_retprobe_commit(struct pk_thread *t, struct pk_regs *regs);
unsigned int pk_retprobe_pending(void);
/*
 * A return address @value read from stack slot @slot of this thread, with
 * the return trampoline replaced by the caller it stands for: stack traces
 * walk through return-probed frames. Async-signal-safe, lock-free.
 */
uintptr_t pk_retprobe_real_ret(uintptr_t slot, uintptr_t value);

/* core/optimize.c: switching armed sites between int3 and a jump */
int pk_opt_enabled(void);
void pk_opt_queue(struct pk_site *s);
void pk_opt_dequeue(struct pk_site *s);
/* Optimize what is queued, one code sync per step for the whole batch. */
void pk_opt_flush(void);
/* Back to int3 before @s is disarmed or a neighbour's bytes change; batched likewise. */
void pk_opt_unoptimize(struct pk_site **v, int n);
/* Before a new site at @addr is armed: sites whose jump reads that byte go back to int3. */
void pk_opt_unshadow(uintptr_t addr);
/* Whether a probe at @addr would take a jump, without registering one (coverage, listings). */
int pk_opt_check(uintptr_t addr, const char **why);
/* Whether a probe's handlers may touch vector or x87 state. */
int pk_probe_uses_vector(const struct pk_probe *p);
/* Whether handler @fn may touch vector or x87 state (and is not trusted not to). */
int pk_code_uses_vector(const void *fn);
/* entry.S: fn(a, b) with the extended state saved around it. */
long pk_vec_call(const void *fn, void *a, void *b);
/* entry.S: a return probe's handler may touch vector state. */
extern unsigned int pk_rethook_vec;
/* Handlers known not to touch vector state although analysis cannot tell (the agent's). */
void pk_vec_trust(const void *fn);

/* core/retprobe.c: the user handlers behind a retprobe's entry probe, 0 if @p is not one. */
int pk_retprobe_handlers(const struct pk_probe *p, const void **entry, const void **ret);

/* core/jprobe.c */
/*
 * A thread's jprobe state while its entry handler runs. The arch code's
 * stack copy and vector state follow it in the same mapping.
 */
struct pk_jframe {
	struct pk_regs regs; /* at the function's entry; where pk_jprobe_return resumes */
	unsigned long entry;
	int active;
	int tid;
	struct pk_jprobe *jp;
	struct pk_site *site;
	uintptr_t skip; /* the next hit here on this thread runs no entry (see arch) */
};
/* Jprobes run after the other probes of a site, as the kernel ordered them. */
int pk_jprobe_is(const struct pk_probe *p);

/* core/boundary.c */
struct pk_sym_info;
int pk_boundary_check(uintptr_t addr, const struct pk_sym_info *sym);
void pk_boundary_release(void);
/* core/spawn.c: posix_spawn run by the engine, its child free of probes */
void pk_spawn_init_late(void);

/* core/blacklist.c */
int pk_blacklisted(uintptr_t addr);
int pk_blacklist_init(void);

/* text/text.c: writing code and placing slots */
int pk_text_poke(void *addr, const void *src, size_t n);
void pk_text_sync(void);
int pk_text_prot(uintptr_t addr);
int pk_text_mapping(uintptr_t addr, uintptr_t *lo, uintptr_t *hi);
void *pk_slot_alloc(uintptr_t near1, uintptr_t near2, int *err);
void pk_slot_free(void *slot);
void *pk_slot_base(uintptr_t pc);
int pk_slot_range(size_t i, uintptr_t *start, uintptr_t *end);
void pk_text_atfork_child(void);
int pk_text_release(void);
#define PK_SLOT_SIZE 256
/* Stubs at the addresses a punned jump dictates (see arch opt.c). */
int pk_stub_claim(uintptr_t lo, uintptr_t hi, size_t len, uintptr_t *at, int dry);
void pk_stub_free(uintptr_t at, size_t len);
void pk_stub_unclaim(uintptr_t at, size_t len);
int pk_stub_contains(uintptr_t addr);
void pk_defer_free(void *p);

#endif /* PK_INTERNAL_H */
