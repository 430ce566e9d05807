// SPDX-License-Identifier: MIT
/*
 * The in-process side of `probekit trace`: preloaded into the traced
 * program, it maps the control block and the ring the CLI created, checks
 * every compiled definition it was given, plants the probes before main()
 * runs, and on each hit runs the definition's fetch program and writes one
 * record into the ring. It never blocks the program: a full ring drops the
 * record and counts it. It prints nothing; what went wrong is reported in
 * the control block for the CLI to print.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <link.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/proto.h"
#include "arch_clock.h"
#include "sym/sym.h"
#include "internal.h"
#include "ring/ring.h"

/* The largest record the agent builds: header, fixed fields and strings. */
#define STACK_ROOM (PK_STACK_MAX * sizeof(uint64_t))
#define SCRATCH_SIZE                                                                               \
	(sizeof(struct pk_trace_hdr) + PK_EV_MAX_EVENT_SIZE + 2 * PK_EV_MAX_STRING + STACK_ROOM)

struct exit_probe {
	struct pk_probe kp;
	struct agent_event *e;
};

struct agent_event {
	union { /* one or the other: thousands of events cost memory in the program */
		struct pk_probe kp;
		struct pk_retprobe rp; /* PK_EVF_RETURN */
	};
	/* A return probe at the function's exits (PK_EVF_RET_INSN): one probe on each. */
	struct exit_probe *exits;
	unsigned int nexits;
	struct pk_event_def *def;
	/* This process's state: the control block's, or own in a program exec'd later. */
	struct pk_agent_event *st;
	/* The counters every process of the trace adds to. */
	struct pk_agent_event *shared;
	struct pk_agent_event own;
	struct agent_session *s;
	unsigned int id;
	unsigned long file_base;
	unsigned int stack_depth; /* frames of user stack per record, 0 for none */
	char *spec;		  /* "object:symbol", as the engine takes it */
};

struct agent_session {
	struct pk_agent_ctl *ctl;
	size_t ctl_size;
	unsigned int stack_depth; /* --stack: frames per record, 0 for none */
	struct pk_ring ring;
	struct agent_event *events;
	unsigned int nevents;
	int dead; /* detached: its handlers do nothing, the loader hooks skip it */
	/*
	 * A program exec'd by a traced one: the first program's results stay
	 * in the control block; its own, where they differ, go with its records.
	 */
	int follower;
	struct agent_session *next;
};

/* Pushed at the head, never unlinked while the agent is loaded: handlers walk it without a lock. */
static struct agent_session *sessions;
/* Serialises sessions starting and ending (not the handlers). */
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int live_sessions;

/*
 * Per-thread record scratch, mapped on a thread's first hit (mmap is a
 * plain syscall). Each buffer starts with a link on a list of all of them,
 * so that detaching can unmap every thread's; a thread notices by the
 * generation that its buffer is gone.
 */
struct scratch_hdr {
	struct scratch_hdr *next;
	int in_use; /* 0 once its thread exited: the next new thread takes it */
};
/*
 * Return events name where the function returned to, and a traced function
 * returns to few places: %pS text made once per thread and place, not per
 * event (formatting it took three quarters of a return event).
 */
#define CALLER_CACHE 64
struct caller_cache {
	uint64_t ip[CALLER_CACHE];
	unsigned long gen[CALLER_CACHE]; /* pk_sym_generation() when made */
	char name[CALLER_CACHE][64];
};
#define SCRATCH_MAP (sizeof(struct scratch_hdr) + SCRATCH_SIZE + sizeof(struct caller_cache))
static struct scratch_hdr *all_scratch;
static unsigned long scratch_gen = 1;
static __thread char *scratch PK_IE;
static __thread unsigned long scratch_gen_seen PK_IE;
static __thread char comm_cache[16] PK_IE;
/* Ids are constant for a thread: one system call each per thread, not per event. */
static __thread long tid_cache PK_IE;
static long pid_cache;
/* Set while the agent itself works (arming reads /proc, calls libc): not the program's events. */
__thread int pk_agent_busy PK_IE;

static pthread_key_t scratch_key;
static int scratch_key_ok;

static char *thread_scratch(void)
{
	struct scratch_hdr *h;
	unsigned long gen = __atomic_load_n(&scratch_gen, __ATOMIC_ACQUIRE);
	long p;

	if (scratch && scratch_gen_seen == gen)
		return scratch;
	for (h = __atomic_load_n(&all_scratch, __ATOMIC_ACQUIRE); h; h = h->next) {
		int zero = 0;

		if (__atomic_compare_exchange_n(&h->in_use, &zero, 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
	if (!h) {
		p = pk_syscall6(SYS_mmap, 0, SCRATCH_MAP, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if ((p < 0 && p > -4096) || !p)
			return NULL;
		h = (struct scratch_hdr *)p;
		h->in_use = 1;
		h->next = __atomic_load_n(&all_scratch, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&all_scratch, &h->next, h, 1, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
	}
	scratch = (char *)(h + 1);
	scratch_gen_seen = gen;
	/* The thread's name, once: a prctl per hit would double the cost. */
	pk_sys(SYS_prctl, PR_GET_NAME, comm_cache, 0);
	tid_cache = pk_sys(SYS_gettid, 0, 0, 0);
	/* Marked free when the thread exits: a thread per request must not grow the list. (Keys
	 * below 32 live in the thread descriptor: no allocation here.) */
	if (scratch_key_ok)
		pthread_setspecific(scratch_key, h);
	return scratch;
}

/* A thread's buffer stays on the list (a lock-free list cannot unlink it): it is reused. */
static void scratch_exit(void *p)
{
	struct scratch_hdr *h = p;

	scratch = NULL;
	__atomic_store_n(&h->in_use, 0, __ATOMIC_RELEASE);
}

/* Every thread's buffer, once no handler runs any more (the engine is released). */
static void scratch_release(void)
{
	struct scratch_hdr *h = __atomic_exchange_n(&all_scratch, NULL, __ATOMIC_ACQ_REL);

	__atomic_fetch_add(&scratch_gen, 1, __ATOMIC_RELEASE);
	while (h) {
		struct scratch_hdr *next = h->next;

		munmap(h, SCRATCH_MAP);
		h = next;
	}
	if (scratch_key_ok)
		pthread_key_delete(scratch_key);
	scratch_key_ok = 0;
}

/* The tracer converts cycles to CLOCK_MONOTONIC (PK_CTL_CYCLES): a cheaper stamp per record. */
static int stamp_cycles;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int symbolize(void *ctx, char *buf, size_t size, unsigned long addr)
{
	(void)ctx;
	return pk_sprint_symbol(buf, size, (const void *)addr);
}

/*
 * libc's memcpy uses vector registers, which the record path must not (its
 * handlers are trusted to leave them alone: see arm()). Records are short.
 */
static void copy_record(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	for (; n >= 8; n -= 8, d += 8, s += 8)
		__builtin_memcpy(d, s, 8);
	for (; n; n--)
		*d++ = *s++;
}

/* @ret_ip as %pS into @dst (64 bytes), through this thread's cache after @scratch. */
static void caller_name(char *scratch_buf, char *dst, uint64_t ret_ip)
{
	struct caller_cache *c = (struct caller_cache *)(scratch_buf + SCRATCH_SIZE);
	unsigned int i = (unsigned int)((ret_ip ^ ret_ip >> 7 ^ ret_ip >> 17) % CALLER_CACHE);
	unsigned long gen = pk_sym_generation();
	size_t n;

	if (c->ip[i] != ret_ip || c->gen[i] != gen || !ret_ip) {
		pk_sprint_symbol(c->name[i], sizeof(c->name[i]), (const void *)ret_ip);
		c->ip[i] = ret_ip;
		c->gen[i] = gen;
	}
	n = strnlen(c->name[i], sizeof(c->name[i]) - 1);
	copy_record(dst, c->name[i], n);
	dst[n] = 0;
}

/*
 * The user stack as the kernel's userstacktrace takes it
 * (arch_stack_walk_user()): @ip, then the return address beside each frame
 * pointer (arch_regs_fp()), while the frames go up the stack; frames
 * returning through the retprobe trampoline as the callers they stand for.
 */
static unsigned int user_stack(uint64_t *out, unsigned int max, uint64_t ip,
			       const struct pk_regs *regs)
{
	uintptr_t fp = arch_regs_fp(regs), frame[2];
	unsigned int n = 0;

	/* @out follows the fetched record: not aligned. */
	if (max)
		copy_record(&out[n++], &ip, sizeof(ip));
	while (n < max && !pk_read_nofault(frame, (const void *)fp, sizeof(frame)) &&
	       fp >= arch_regs_sp(regs) && frame[1]) {
		uint64_t ret = pk_retprobe_real_ret(fp + sizeof(uintptr_t), frame[1]);

		copy_record(&out[n++], &ret, sizeof(ret));
		fp = frame[0];
	}
	return n;
}

/* Fetch, then copy into the ring: the record's length is only known after fetching. */
static void emit(struct agent_event *e, const struct pk_regs *regs, int is_return,
		 const void *edata, uint64_t ip, uint64_t ret_ip)
{
	struct pk_event_env env = {
	    .comm = comm_cache,
	    .entry_data = edata,
	    .entry_size = edata ? pk_event_entry_size(e->def) : 0,
	    .file_base = e->file_base,
	    .symbolize = symbolize,
	};
	struct pk_ring *ring = &e->s->ring;
	struct pk_trace_hdr *h;
	struct pk_ring_res res;
	unsigned int nstack;
	char *buf;
	int len;

	if (pk_agent_busy || __atomic_load_n(&e->s->dead, __ATOMIC_ACQUIRE))
		return;
	__atomic_fetch_add(&e->shared->hits, 1, __ATOMIC_RELAXED);
	buf = thread_scratch();
	if (!buf) {
		pk_ring_reserve(ring, e->id, ~(size_t)0 >> 1, &res); /* counts it lost */
		return;
	}
	len = pk_event_fetch(e->def, regs, is_return, buf, SCRATCH_SIZE - STACK_ROOM, &env);
	if (len < 0)
		return;
	nstack = 0;
	if (e->stack_depth)
		nstack = user_stack((uint64_t *)(void *)(buf + len), e->stack_depth,
				    is_return ? ret_ip : (uintptr_t)e->kp.addr, regs);
	len += (int)(nstack * sizeof(uint64_t));
	if (pk_ring_reserve(ring, e->id, sizeof(*h) + (size_t)len, &res))
		return; /* full: counted as lost by the ring, the program goes on */
	/* The header straight into the ring: most of caller[] is not read, so not written. */
	h = res.data;
	h->ts_ns = stamp_cycles ? pk_arch_cycles() : now_ns();
	h->pid = (uint32_t)pid_cache;
	h->tid = (uint32_t)tid_cache;
	/* glibc reads it from rseq: no system call. */
	h->cpu = (uint32_t)sched_getcpu();
	h->flags = nstack ? PK_TRACE_HDR_STACK | nstack << 8 : 0;
	h->ip = ip;
	h->ret_ip = ret_ip;
	copy_record(h->comm, comm_cache, sizeof(h->comm));
	h->caller[0] = 0;
	if (is_return) {
		caller_name(buf, h->caller, ret_ip);
	} else if (e->st != e->shared && strcmp(e->st->where, e->shared->where)) {
		snprintf(h->caller, sizeof(h->caller), "%.63s", e->st->where);
		h->flags |= PK_TRACE_HDR_WHERE;
	}
	copy_record(h + 1, buf, (size_t)len);
	pk_ring_commit(ring, &res);
}

static int on_entry(struct pk_probe *p, struct pk_regs *regs)
{
	struct agent_event *e = pk_container_of(p, struct agent_event, kp);

	emit(e, regs, 0, NULL, arch_regs_ip(regs), 0);
	return 0;
}

static int on_ret_entry(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct agent_event *e = pk_container_of(ri->rp, struct agent_event, rp);

	if (e->def->nentry)
		pk_event_fetch_entry(e->def, regs, ri->data, e->rp.data_size);
	return 0;
}

static int on_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct agent_event *e = pk_container_of(ri->rp, struct agent_event, rp);

	emit(e, regs, 1, e->def->nentry ? ri->data : NULL, (uintptr_t)e->rp.kp.addr,
	     (uintptr_t)ri->ret_addr);
	return 0;
}

/* At a return instruction (or a tail jump) the return address is where it was at entry. */
static int on_exit_insn(struct pk_probe *p, struct pk_regs *regs)
{
	struct exit_probe *x = pk_container_of(p, struct exit_probe, kp);
	unsigned long ret = 0;

	pk_read_nofault(&ret, arch_rethook_entry_slot(regs), sizeof(ret));
	emit(x->e, regs, 1, NULL, x->e->st->addr, ret);
	return 0;
}

static int arm_exits(struct agent_event *e, const char *symbol, void *addr)
{
	struct pk_probe **ps;
	uintptr_t start, *at;
	int n, i, err;

	/* No entry probe saves them: $argN of a return probe needs the swap. */
	if (e->def->nentry)
		return -EOPNOTSUPP;
	n = pk_func_exits(symbol, (uintptr_t)addr, &start, &at);
	if (n <= 0)
		return n ? n : -ENOENT;
	e->exits = calloc((size_t)n, sizeof(*e->exits));
	ps = calloc((size_t)n, sizeof(*ps));
	err = e->exits && ps ? 0 : -ENOMEM;
	for (i = 0; !err && i < n; i++) {
		e->exits[i].kp.addr = (void *)at[i];
		e->exits[i].kp.pre_handler = on_exit_insn;
		e->exits[i].e = e;
		ps[i] = &e->exits[i].kp;
	}
	e->st->addr = start;
	if (!err)
		err = pk_register_probes(ps, n);
	free(ps);
	free(at);
	if (err) {
		free(e->exits);
		e->exits = NULL;
		return err;
	}
	e->nexits = (unsigned int)n;
	return 0;
}

static int lookup(void *ctx, const char *name, unsigned long *addr)
{
	void *a = pk_lookup_name(name);

	(void)ctx;
	if (!a)
		return -ENOENT;
	*addr = (unsigned long)a;
	return 0;
}

struct file_query {
	const char *path;
	uint64_t offset;
	void *addr;
	unsigned long base;
};

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* A loaded object's path; the loader names the executable "", /proc knows it. */
const char *pk_agent_object_path(const struct dl_phdr_info *info, char *buf, size_t size)
{
	ssize_t n;

	if (info->dlpi_name && *info->dlpi_name)
		return info->dlpi_name;
	n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

static int file_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct file_query *q = arg;
	char exe[PATH_MAX];
	const char *name = pk_agent_object_path(info, exe, sizeof(exe));
	int i;

	(void)size;
	if (!name || !same_file(name, q->path))
		return 0;
	/* The uprobe form names a file offset: find the segment that maps it. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || q->offset < ph->p_offset ||
		    q->offset >= ph->p_offset + ph->p_filesz)
			continue;
		q->addr = (void *)(info->dlpi_addr + ph->p_vaddr + (q->offset - ph->p_offset));
		q->base = info->dlpi_addr + ph->p_vaddr - ph->p_offset;
		return 1;
	}
	return 0;
}

/* PATH:OFFSET, as uprobe_events takes it: where that byte of PATH is mapped here. */
static int file_offset_addr(const char *path, uint64_t offset, void **addr, unsigned long *base)
{
	struct file_query q = {.path = path, .offset = offset};

	if (access(path, F_OK))
		return -ENOENT;
	if (!dl_iterate_phdr(file_cb, &q))
		return -ENOENT;
	*addr = q.addr;
	*base = q.base;
	return 0;
}

/* The probe point as the engine takes it: "object:symbol", or an address. */
static int probe_point(struct agent_event *e, const char **symbol, void **addr)
{
	const struct pk_event_def *d = e->def;
	const char *obj = pk_event_str(d, d->object), *sym = pk_event_str(d, d->symbol);
	const char *base = strrchr(obj, '/');

	*symbol = NULL;
	*addr = NULL;
	switch (d->form) {
	case PK_EV_FORM_SYMBOL:
	case PK_EV_FORM_FILE_SYMBOL:
		/* A path names its object by file name, as the engine matches it. */
		base = base ? base + 1 : obj;
		/* Armed again after a dlclose: the old one went with its probe. */
		free(e->spec);
		if (asprintf(&e->spec, "%s%s%s", base, *base ? ":" : "", sym) < 0) {
			e->spec = NULL;
			return -ENOMEM;
		}
		*symbol = e->spec;
		return 0;
	case PK_EV_FORM_ADDR: *addr = (void *)(uintptr_t)d->addr; return 0;
	case PK_EV_FORM_FILE: return file_offset_addr(obj, d->offset, addr, &e->file_base);
	default: return -EINVAL;
	}
}

static int arm(struct agent_event *e)
{
	struct pk_event_resolver r = {.lookup = lookup};
	const char *symbol;
	void *addr;
	int err;

	err = pk_event_resolve(e->def, &r);
	if (err && err != -ENOENT)
		return err;
	err = probe_point(e, &symbol, &addr);
	if (err)
		return err;
	/*
	 * The record path is this library's code, built -mgeneral-regs-only,
	 * and glibc's clock_gettime (the vDSO) and sched_getcpu, which use no
	 * vector register; the detour's analysis cannot follow its callbacks
	 * and PLT calls, so it is told: a hit then saves no extended state.
	 */
	pk_vec_trust((const void *)on_entry);
	pk_vec_trust((const void *)on_ret_entry);
	pk_vec_trust((const void *)on_return);
	pk_vec_trust((const void *)on_exit_insn);
	if (e->def->flags & PK_EVF_RET_INSN) {
		err = arm_exits(e, symbol, addr);
	} else if (e->def->flags & PK_EVF_RETURN) {
		e->rp.kp.symbol_name = symbol;
		e->rp.kp.addr = addr;
		e->rp.kp.offset = symbol ? (unsigned int)e->def->offset : 0;
		e->rp.handler = on_return;
		e->rp.entry_handler = on_ret_entry;
		e->rp.maxactive = e->def->maxactive;
		e->rp.data_size = pk_event_entry_size(e->def);
		err = pk_register_retprobe(&e->rp);
		e->st->addr = (uintptr_t)e->rp.kp.addr;
	} else {
		e->kp.symbol_name = symbol;
		e->kp.addr = addr;
		e->kp.offset = symbol ? (unsigned int)e->def->offset : 0;
		e->kp.pre_handler = on_entry;
		err = pk_register_probe(&e->kp);
		e->st->addr = (uintptr_t)e->kp.addr;
	}
	return err;
}

static int no_symbol(const struct pk_sym_info *si, void *arg)
{
	(void)si;
	(void)arg;
	return 0;
}

/* The object an OBJ:SYM event names, by file name; "" for the other forms. */
static const char *event_object(const struct agent_event *e)
{
	const char *obj = pk_event_str(e->def, e->def->object), *base = strrchr(obj, '/');

	if (e->def->form != PK_EV_FORM_SYMBOL && e->def->form != PK_EV_FORM_FILE_SYMBOL)
		return "";
	return base ? base + 1 : obj;
}

static int object_loaded(const char *base)
{
	return pk_sym_foreach(base, no_symbol, NULL) != -ENOENT;
}

static void set_result(struct agent_event *e, int err)
{
	if (err == -ENOENT && *event_object(e) && !object_loaded(event_object(e))) {
		e->st->state = PK_AGENT_DEFERRED;
		e->st->error = err;
		return;
	}
	e->st->error = err;
	e->st->state = err ? PK_AGENT_FAILED : PK_AGENT_ARMED;
	if (err)
		return;
	pk_sprint_symbol(e->st->where, sizeof(e->st->where), (const void *)(uintptr_t)e->st->addr);
	/* The first program never armed it: the return events' function name comes from here. */
	if (e->st != e->shared && !e->shared->where[0])
		memcpy(e->shared->where, e->st->where, sizeof(e->shared->where));
}

static void disarm(struct agent_event *e)
{
	unsigned int i;

	if (e->exits) {
		struct pk_probe **ps = calloc(e->nexits, sizeof(*ps));

		for (i = 0; i < e->nexits; i++) {
			__atomic_fetch_add(&e->shared->missed, e->exits[i].kp.nmissed,
					   __ATOMIC_RELAXED);
			if (ps)
				ps[i] = &e->exits[i].kp;
			else
				pk_unregister_probe(&e->exits[i].kp);
		}
		if (ps)
			pk_unregister_probes(ps, (int)e->nexits);
		free(ps);
		free(e->exits);
		e->exits = NULL;
		e->nexits = 0;
	} else if (e->def->flags & PK_EVF_RETURN) {
		__atomic_fetch_add(&e->shared->missed, e->rp.nmissed + e->rp.kp.nmissed,
				   __ATOMIC_RELAXED);
		pk_unregister_retprobe(&e->rp);
	} else {
		__atomic_fetch_add(&e->shared->missed, e->kp.nmissed, __ATOMIC_RELAXED);
		pk_unregister_probe(&e->kp);
	}
}

/*
 * Deferred events: an OBJ:SYM whose object is not loaded waits for the
 * program to dlopen it, and goes back to waiting when it is dlclosed. The
 * hooks are return probes on dlopen and dlclose, whose handlers run in the
 * thread's normal context (the trampoline, not a signal): registering there
 * is safe, and the loader holds no lock by then. They serve every session.
 */
static struct pk_retprobe dlopen_rp, dlclose_rp;

static int on_dlopen_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct agent_session *s;
	unsigned int i;

	(void)ri;
	if (!pk_regs_return_value(regs))
		return 0;
	pk_agent_busy = 1;
	for (s = __atomic_load_n(&sessions, __ATOMIC_ACQUIRE); s; s = s->next) {
		for (i = 0; i < s->nevents && !__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE); i++) {
			struct agent_event *e = &s->events[i];

			if (e->st->state == PK_AGENT_DEFERRED && object_loaded(event_object(e)))
				set_result(e, arm(e));
		}
	}
	pk_agent_busy = 0;
	return 0;
}

static int on_dlclose_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct agent_session *s;
	unsigned int i;

	(void)ri;
	(void)regs;
	pk_agent_busy = 1;
	for (s = __atomic_load_n(&sessions, __ATOMIC_ACQUIRE); s; s = s->next) {
		for (i = 0; i < s->nevents && !__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE); i++) {
			struct agent_event *e = &s->events[i];

			/* Gone with its object: disarm (its text is unmapped) and wait again. */
			if (e->st->state == PK_AGENT_ARMED && *event_object(e) &&
			    !object_loaded(event_object(e))) {
				disarm(e);
				e->st->state = PK_AGENT_DEFERRED;
			}
		}
	}
	pk_agent_busy = 0;
	return 0;
}

static void hook_loader(const struct agent_session *s)
{
	unsigned int i;
	int any = 0;

	for (i = 0; i < s->nevents; i++)
		any |= *event_object(&s->events[i]) != 0;
	if (!any || pk_probe_is_registered(&dlopen_rp.kp))
		return;
	dlopen_rp.kp.symbol_name = "libc.so.6:dlopen";
	dlopen_rp.handler = on_dlopen_return;
	dlclose_rp.kp.symbol_name = "libc.so.6:dlclose";
	dlclose_rp.handler = on_dlclose_return;
	pk_register_retprobe(&dlopen_rp);
	pk_register_retprobe(&dlclose_rp);
}

static void unhook_loader(void)
{
	pk_unregister_retprobe(&dlopen_rp);
	pk_unregister_retprobe(&dlclose_rp);
}

static void publish_ready(struct pk_agent_ctl *ctl)
{
	__atomic_store_n(&ctl->ready, 1, __ATOMIC_RELEASE);
	pk_syscall6(SYS_futex, (long)&ctl->ready, FUTEX_WAKE, 1, 0, 0, 0);
}

/* The CLI says whether to run: it may give up when a definition was refused. */
static void wait_for_go(struct pk_agent_ctl *ctl)
{
	struct timespec ts = {0, 500000000};
	int i;

	/* At most 10 s: a tracer that died must not hold the program forever. */
	for (i = 0; i < 20 && !__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE); i++)
		pk_syscall6(SYS_futex, (long)&ctl->go, FUTEX_WAIT, 0, (long)&ts, 0, 0);
	if (__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE) == 2)
		_exit(127);
}

/*
 * Started by probekit trace (PK_ENV_TRACE: the tracer's pid, its
 * descriptors of the control block and the ring, whether to follow exec):
 * open both again through the tracer's /proc entries, as the kernel allows
 * the same user, rather than inherit them: a descriptor number in the
 * environment would outlive its descriptor (bash passes its own starting
 * environment to the programs it execs, whatever the agent unset). The
 * first program to arrive finds the control block not ready: its results
 * are the ones the tracer checks before letting it run. Every program
 * after it (exec'd by it or its children) is a follower.
 */
static void trace_init(void)
{
	const char *v = getenv(PK_ENV_TRACE);
	char path[64];
	int pid, cn, rn, follow, cfd, rfd;
	struct agent_session *s;
	uint32_t ready = 1;

	if (!v || sscanf(v, "%d:%d:%d:%d", &pid, &cn, &rn, &follow) != 4 || pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, cn);
	cfd = open(path, O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, rn);
	rfd = cfd < 0 ? -1 : open(path, O_RDWR | O_CLOEXEC);
	if (rfd >= 0 && pread(cfd, &ready, sizeof(ready), offsetof(struct pk_agent_ctl, ready)) !=
			    (ssize_t)sizeof(ready))
		ready = 1;
	if (rfd < 0 || (ready && !follow)) {
		if (cfd >= 0)
			close(cfd);
		if (rfd >= 0)
			close(rfd);
		return;
	}
	pk_agent_busy = 1;
	s = pk_agent_session_start(cfd, rfd, ready != 0);
	pk_agent_busy = 0;
	if (s && !ready && s->ctl->ready)
		wait_for_go(s->ctl);
}

__attribute__((constructor(101))) static void agent_init(void)
{
	pk_agent_list_functions();
	trace_init();
}

/* A forked child keeps tracing into the same ring, under its own ids. */
static void after_fork(void)
{
	pid_cache = getpid();
	tid_cache = pk_sys(SYS_gettid, 0, 0, 0);
}

static int map_ctl(struct agent_session *s, int cfd)
{
	struct pk_agent_ctl *ctl;
	struct stat st;

	if (fstat(cfd, &st) || st.st_size < (off_t)sizeof(*ctl))
		return -EBADMSG;
	s->ctl_size = (size_t)st.st_size;
	ctl = mmap(NULL, s->ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	if (ctl == MAP_FAILED)
		return -errno;
	s->ctl = ctl;
	if (ctl->magic != PK_AGENT_MAGIC || ctl->version != PK_AGENT_VERSION ||
	    ctl->def_size != sizeof(struct pk_event_def) || ctl->nevents > PK_AGENT_MAX_EVENTS ||
	    ctl->defs_offset < sizeof(*ctl) + (uint64_t)ctl->nevents * sizeof(ctl->ev[0]) ||
	    ctl->defs_offset > s->ctl_size)
		return -EBADMSG;
	return 0;
}

static void session_free(struct agent_session *s)
{
	unsigned int i;

	for (i = 0; s->events && i < s->nevents; i++) {
		free(s->events[i].def);
		free(s->events[i].spec);
	}
	free(s->events);
	s->events = NULL;
	s->nevents = 0;
	pk_ring_close(&s->ring);
	if (s->ctl)
		munmap(s->ctl, s->ctl_size);
	s->ctl = NULL;
}

struct agent_session *pk_agent_session_start(int cfd, int rfd, int follower)
{
	static int atfork_done;
	struct agent_session *s = calloc(1, sizeof(*s));
	struct pk_agent_ctl *ctl;
	unsigned int i;

	if (!s || map_ctl(s, cfd)) {
		close(cfd);
		close(rfd);
		if (s && s->ctl)
			munmap(s->ctl, s->ctl_size);
		free(s);
		return NULL;
	}
	close(cfd);
	ctl = s->ctl;
	s->follower = follower;
	pthread_mutex_lock(&session_lock);
	if (!scratch_key_ok)
		scratch_key_ok = pthread_key_create(&scratch_key, scratch_exit) == 0;
	pid_cache = getpid();
	if (!follower)
		ctl->agent_pid = (int32_t)pid_cache;
	if (!atfork_done)
		pthread_atfork(NULL, NULL, after_fork);
	atfork_done = 1;
	live_sessions++;
	s->nevents = ctl->nevents;
	if (pk_ring_attach(&s->ring, rfd)) {
		close(rfd);
		for (i = 0; i < s->nevents; i++) {
			ctl->ev[i].state = PK_AGENT_FAILED;
			ctl->ev[i].error = -EBADMSG;
		}
		s->nevents = 0;
		goto out;
	}
	close(rfd);
	/*
	 * A Go program without cgo (exec'd by a traced one: the tracer refuses
	 * to start or attach to one) gives its threads a thread pointer of the
	 * Go runtime's, where ours cannot live: it runs untraced.
	 */
	if (pk_is_go_program() && pk_elf_go("/proc/self/exe") == PK_GO_OWN_THREADS) {
		for (i = 0; !follower && i < s->nevents; i++) {
			ctl->ev[i].state = PK_AGENT_FAILED;
			ctl->ev[i].error = -ENOEXEC;
		}
		s->nevents = 0;
		goto out;
	}
	s->events = calloc(s->nevents ? s->nevents : 1, sizeof(*s->events));
	/*
	 * Newest definition first: the kernel runs the uprobe events on one
	 * address in that order, and the trace must read the same.
	 */
	/* For this process, as debug.kprobes-optimization is for the kernel. */
	if (ctl->flags & PK_CTL_NO_OPTIMIZE)
		pk_set_optimization(0);
	stamp_cycles = !!(ctl->flags & PK_CTL_CYCLES);
	if (ctl->flags & PK_CTL_STACK) {
		s->stack_depth = PK_CTL_STACK_DEPTH(ctl->flags);
		if (s->stack_depth > PK_STACK_MAX)
			s->stack_depth = PK_STACK_MAX;
	}
	for (i = s->nevents; s->events && i-- > 0;) {
		struct agent_event *e = &s->events[i];
		uint64_t off, size;
		int err;

		e->id = i;
		e->s = s;
		e->shared = &ctl->ev[i];
		e->stack_depth =
		    s->stack_depth > e->shared->stack ? s->stack_depth : e->shared->stack;
		if (e->stack_depth > PK_STACK_MAX)
			e->stack_depth = PK_STACK_MAX;
		e->st = follower ? &e->own : e->shared;
		/* Our own copy: the CLI could rewrite the shared one after we checked it. */
		off = __atomic_load_n(&ctl->ev[i].def_offset, __ATOMIC_RELAXED);
		size = __atomic_load_n(&ctl->ev[i].def_size, __ATOMIC_RELAXED);
		e->def = off >= ctl->defs_offset && off <= s->ctl_size &&
				 size <= s->ctl_size - off && size <= sizeof(*e->def)
			     ? malloc(size)
			     : NULL;
		if (!e->def) {
			err = size > sizeof(*e->def) || off > s->ctl_size ? -EBADMSG : -ENOMEM;
		} else {
			memcpy(e->def, (char *)ctl + off, size);
			err = pk_event_validate(e->def, size);
			if (!err)
				err = arm(e);
		}
		set_result(e, err);
	}
	if (!s->events)
		s->nevents = 0;
	hook_loader(s);
out:
	s->next = sessions;
	__atomic_store_n(&sessions, s, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&session_lock);
	if (!follower)
		publish_ready(ctl);
	return s;
}

/*
 * End a session: its handlers stop first (dead, then a grace period), then
 * its probes go. The last session ending hands the engine back, so that
 * the agent can be unloaded: that waits (up to @wait_ms) for frames that
 * will still return through the retprobe trampoline.
 *
 * Return: 0 (and, for the last session, the engine released), or the
 * engine's refusal: -EBUSY / -EAGAIN.
 */
int pk_agent_session_end(struct agent_session *s, int wait_ms)
{
	unsigned int i;
	int err = 0, ms;

	pthread_mutex_lock(&session_lock);
	if (s) {
		__atomic_store_n(&s->dead, 1, __ATOMIC_RELEASE);
		/* Handlers (and loader hooks) that saw it alive are done after this. */
		pk_wait_quiescent(NULL, 1);
		live_sessions--;
		/* Loader hooks of the last session first: they arm events too. */
		if (!live_sessions)
			unhook_loader();
		for (i = 0; i < s->nevents; i++)
			if (s->events[i].st->state == PK_AGENT_ARMED)
				disarm(&s->events[i]);
		/* The final counts: the tracer prints them after we answer. */
		session_free(s);
	}
	if (!live_sessions) {
		for (ms = 0;; ms += 10) {
			err = pk_engine_release();
			if ((err != -EBUSY && err != -EAGAIN) || ms >= wait_ms)
				break;
			usleep(10000);
		}
		if (!err) {
			scratch_release();
			/* No handler walks the list any more. */
			while (sessions) {
				struct agent_session *next = sessions->next;

				free(sessions);
				sessions = next;
			}
		}
	}
	pthread_mutex_unlock(&session_lock);
	return err;
}

unsigned int pk_agent_live_sessions(void)
{
	unsigned int n;

	pthread_mutex_lock(&session_lock);
	n = live_sessions;
	pthread_mutex_unlock(&session_lock);
	return n;
}

__attribute__((destructor)) static void agent_exit(void)
{
	struct agent_session *s;
	unsigned int i;

	/* Disarm before the program's text goes away, and leave the final counts. */
	pk_agent_busy = 1;
	pk_agent_reap_threads();
	unhook_loader();
	for (s = sessions; s; s = s->next) {
		if (__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE))
			continue;
		for (i = 0; i < s->nevents; i++)
			if (s->events[i].st->state == PK_AGENT_ARMED)
				disarm(&s->events[i]);
	}
}
