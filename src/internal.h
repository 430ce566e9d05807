/* SPDX-License-Identifier: MIT */
/*
 * Internal interfaces between the generic core (src/core), the code patcher
 * (src/text), symbols (src/sym) and the architecture (src/arch/$ARCH).
 * Generic code never tests the architecture: it calls the arch_* contract
 * declared here, which src/arch/$ARCH implements.
 */
#ifndef PK_INTERNAL_H
#define PK_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "probekit.h"
#include "arch_site.h"

#define PK_IE __attribute__((tls_model("initial-exec")))

#define pk_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define pk_load(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define pk_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define pk_inc(p)      __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

/*
 * A probed address. Every probe registered there hangs off one site (the
 * kernel's aggregate kprobe); the site owns the displaced instruction and
 * its out-of-line slot.
 */
struct pk_site {
	uintptr_t addr;
	struct pk_probe *probes; /* registration order; readers walk it lock-free */
	struct pk_site *hnext;	 /* hash chain */
	unsigned int nr_enabled;
	unsigned int nr_post; /* enabled probes with a post_handler */
	int armed;
	struct pk_arch_site arch;
};

/* Per-thread state, in a pool that signal handlers can claim without malloc. */
struct pk_thread {
	int tid;			 /* 0: free */
	unsigned long seq;		 /* odd while the thread is inside the dispatcher */
	int nest;			 /* dispatcher entries on this thread's stack */
	uintptr_t *ool;			 /* that thread's pk_ool, see below */
	int depth;			 /* >0 while running a handler: nested hits are missed */
	struct pk_retprobe_instance *ri; /* live return instances, newest first */
	struct pk_retprobe_instance *parked; /* taken off the stack while an exception unwinds */
};

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
struct pk_thread *pk_thread_get(void);
void pk_thread_enter(struct pk_thread *t);
void pk_thread_exit(struct pk_thread *t);
/* Wait until no other thread is in the dispatcher, or in @site's slot (if @site). */
void pk_wait_quiescent(const struct pk_site *site);
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
int pk_register_locked(struct pk_probe *p);
void pk_unregister_locked(struct pk_probe **ps, int n);
int pk_probe_is_registered(const struct pk_probe *p);
int pk_probe_check(const char *symbol_name, void *addr);
int pk_engine_release(void);
void pk_site_foreach(void (*fn)(struct pk_site *, void *), void *arg);

/* core/dispatch.c: called by the arch trap code */
int pk_dispatch_pre(struct pk_site *site, struct pk_regs *regs, struct pk_thread *t, int *post);
void pk_dispatch_post(struct pk_site *site, struct pk_regs *regs, struct pk_thread *t);
int pk_dispatch_fault(struct pk_site *site, struct pk_regs *regs, int signo, struct pk_thread *t);

/* core/retprobe.c */
void pk_rethook_dispatch(void *unused, struct pk_regs *regs);
void pk_retprobe_thread_exit(struct pk_thread *t);
unsigned int pk_retprobe_pending(void);

/* core/spawn.c: posix_spawn run by the engine, its child free of probes */
void pk_spawn_init_late(void);
long arch_clone_vfork(int (*fn)(void *), void *arg, void *stack_top);

/* core/blacklist.c */
int pk_blacklisted(uintptr_t addr);
int pk_blacklist_init(void);

/* text/text.c: writing code and placing slots */
int pk_text_poke(void *addr, const void *src, size_t n);
void pk_text_sync(void);
int pk_text_prot(uintptr_t addr);
void *pk_slot_alloc(uintptr_t near1, uintptr_t near2, int *err);
void pk_slot_free(void *slot);
void *pk_slot_base(uintptr_t pc);
int pk_slot_range(size_t i, uintptr_t *start, uintptr_t *end);
void pk_text_atfork_child(void);
int pk_text_release(void);
#define PK_SLOT_SIZE 128

/* The arch contract. */
int arch_init(void);
/* After the registry works: internal probes (the sigaction guard). */
void arch_init_late(void);
void arch_release(void);
int arch_check_boundary(uintptr_t func, uintptr_t addr);
/*
 * The same for code that is not running: @size bytes of a function from its
 * first instruction, in a buffer (a file's bytes). 0 if @offset starts an
 * instruction, -EILSEQ if it falls inside one or the walk meets bytes that
 * do not decode.
 */
int arch_code_boundary(const uint8_t *code, size_t size, size_t offset);
int arch_prepare_probe(struct pk_site *site);
/* Whether the instruction at @addr can be relocated or emulated: 0, -EOPNOTSUPP, -EILSEQ. */
int arch_can_probe(uintptr_t addr);
int arch_arm_probe(struct pk_site *site);
int arch_disarm_probe(struct pk_site *site);
void arch_remove_probe(struct pk_site *site);
int arch_is_trap_byte(uint8_t b);
uintptr_t arch_rethook_trampoline(void);

/* Raw system calls: the trap path must not enter libc. */
long pk_syscall6(long nr, long a, long b, long c, long d, long e, long f);
#define pk_sys(nr, a, b, c) pk_syscall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

#endif /* PK_INTERNAL_H */
