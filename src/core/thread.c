// SPDX-License-Identifier: MIT
/*
 * Per-thread state and quiescence.
 *
 * A probe hit arrives in a signal handler, where malloc and locks are out of
 * bounds, so thread records come from a static pool claimed with a CAS on
 * the first hit of each thread and returned by a pthread key destructor when
 * the thread exits (or found dead by tgkill later).
 *
 * Quiescence is sequence-count based, as in userspace RCU: a thread's seq is
 * odd while it is inside the dispatcher. A remover first unpublishes what it
 * removes, then waits for every thread that was inside at that moment to
 * come out (its seq changes), and for every thread still running the
 * removed site's slot to leave it.
 *
 * The fence that orders a reader's seq store before its reads of the
 * registry is asymmetric, as in liburcu's membarrier flavour: the reader
 * (every probe hit) has only a compiler barrier, and the remover makes
 * every running thread of the process execute a full barrier with
 * membarrier() before it reads the seqs. A jump-optimized hit cannot afford
 * an mfence; a removal can afford a system call.
 */
#include <dirent.h>
#include <linux/membarrier.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define MAX_THREADS 8192

static struct pk_thread pool[MAX_THREADS];
static unsigned int pool_hwm; /* records [0, hwm) have been used at some point */
static pthread_key_t exit_key;
static int exit_key_ok;

__thread struct pk_thread *pk_thread_self PK_IE;
#define self pk_thread_self
int pk_asym_fence; /* membarrier's private expedited command is ours */
#define asym_fence pk_asym_fence
__thread uintptr_t pk_ool PK_IE;
unsigned long pk_nested_windows;

static int gettid_raw(void)
{
	return (int)pk_sys(SYS_gettid, 0, 0, 0);
}

static int thread_alive(int tid)
{
	return pk_sys(SYS_tgkill, pk_sys(SYS_getpid, 0, 0, 0), tid, 0) != -ESRCH;
}

static void release(struct pk_thread *t)
{
	pk_retprobe_thread_exit(t);
	t->ri = NULL;
	t->depth = 0;
	__atomic_store_n(&t->ool, NULL, __ATOMIC_RELAXED);
	pk_store(&t->tid, 0);
}

static void on_thread_exit(void *arg)
{
	struct pk_thread *t = arg;

	if (t == self) {
		self = NULL;
		release(t);
	}
}

static struct pk_thread *claim(int tid)
{
	unsigned int i, hwm = pk_load(&pool_hwm);
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < MAX_THREADS; i++) {
			struct pk_thread *t = &pool[i];
			int cur = pk_load(&t->tid), zero = 0;

			/* Second pass: take over records of threads that died without the
			 * destructor. */
			if (cur && (pass == 0 || thread_alive(cur)))
				continue;
			if (cur)
				zero = cur;
			if (!__atomic_compare_exchange_n(&t->tid, &zero, tid, 0, __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED))
				continue;
			while (i >= hwm &&
			       !__atomic_compare_exchange_n(&pool_hwm, &hwm, i + 1, 1,
							    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				;
			return t;
		}
	}
	return NULL;
}

/* A handler stack with a guard page below it; its top, or 0. */
static uintptr_t map_hstack(void)
{
	long base = pk_syscall6(SYS_mmap, 0, PK_HSTACK_SIZE + 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

	if (base < 0 && base > -4096)
		return 0;
	pk_sys(SYS_mprotect, base, 4096, PROT_NONE);
	return (uintptr_t)base + 4096 + PK_HSTACK_SIZE;
}

/* A thread's first hit: claim its record. */
struct pk_thread *pk_thread_claim(void)
{
	struct pk_thread *t = claim(gettid_raw());

	if (!t)
		return NULL;
	if (!t->hstack)
		t->hstack = map_hstack();
	t->seq &= ~1UL;
	t->nest = 0;
	t->depth = 0;
	t->ri = NULL;
	t->ri_pending = NULL;
	t->parked = NULL;
	t->ri_cache_pool = NULL;
	__atomic_store_n(&t->ool, &pk_ool, __ATOMIC_RELAXED);
	self = t;
	/* Safe here: glibc stores keys below 32 in the thread descriptor without allocating. */
	if (exit_key_ok)
		pthread_setspecific(exit_key, t);
	return t;
}

static void pause_ms(void)
{
	struct timespec ts = {0, 1000000};

	nanosleep(&ts, NULL);
}

static void pause_briefly(void)
{
	struct timespec ts = {0, 20000};

	nanosleep(&ts, NULL);
}

/* Wait while @t (thread @tid) is inside the dispatcher, on the entry we see now. */
static void wait_out_of_dispatcher(struct pk_thread *t, int tid)
{
	unsigned long seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
	int spins = 0;

	while ((seq & 1) && __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE) == seq &&
	       pk_load(&t->tid) == tid) {
		if (++spins % 64 == 0 && !thread_alive(tid))
			break;
		if (spins < 1000)
			sched_yield();
		else
			pause_briefly();
	}
}

/* Wait while @t runs @site's slot: its pk_ool names the site until it is done with it. */
static void wait_out_of_slot(struct pk_thread *t, int tid, const struct pk_site *site)
{
	uintptr_t *ool = __atomic_load_n(&t->ool, __ATOMIC_RELAXED);
	int spins = 0;

	if (!ool)
		return;
	for (;;) {
		uintptr_t cur;

		/* The record may belong to a thread that is exiting: read defensively. */
		if (pk_load(&t->tid) != tid || pk_read_nofault(&cur, ool, sizeof(cur)) ||
		    cur != (uintptr_t)site)
			break;
		if (++spins % 64 == 0 && !thread_alive(tid))
			break;
		pause_briefly();
	}
	/*
	 * The marker is cleared inside the dispatcher, just before it leaves;
	 * waiting for that exit orders the thread's last use of the site
	 * before our free.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wait_out_of_dispatcher(t, tid);
}

void pk_wait_quiescent(const struct pk_site *site, int barrier)
{
	unsigned int i, hwm;
	struct pk_thread *me = self;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* A forked child's memory starts unregistered: register again then. */
	if (barrier && asym_fence &&
	    pk_sys(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) &&
	    (pk_sys(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) ||
	     pk_sys(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)))
		/* Cannot happen once registration worked; readers fence from now on. */
		__atomic_store_n(&asym_fence, 0, __ATOMIC_SEQ_CST);
	hwm = pk_load(&pool_hwm);
	for (i = 0; i < hwm; i++) {
		struct pk_thread *t = &pool[i];
		int tid = pk_load(&t->tid);

		if (!tid || t == me)
			continue;
		wait_out_of_dispatcher(t, tid);
		if (site)
			wait_out_of_slot(t, tid, site);
	}
}

static void atfork_child(void)
{
	unsigned int i;

	/* Only the forking thread exists in the child. */
	for (i = 0; i < MAX_THREADS; i++) {
		if (&pool[i] == self)
			continue;
		pool[i].ri = NULL;
		pool[i].parked = NULL;
		pool[i].ri_cache_pool = NULL;
		pool[i].seq = 0;
		pool[i].tid = 0;
	}
	if (self)
		self->tid = gettid_raw();
}

int pk_tls_ool_offset(void)
{
	return (int)((intptr_t)&pk_ool - (intptr_t)arch_thread_pointer());
}

static int thread_init_done;

void pk_thread_init(void)
{
	static int atfork_done;

	if (thread_init_done)
		return;
	thread_init_done = 1;
	asym_fence = pk_sys(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	exit_key_ok = pthread_key_create(&exit_key, on_thread_exit) == 0;
	/*
	 * Bind the symbol now: a lazy binding's resolver saves the vector
	 * state on the stack of the first thread that claims a record, which
	 * may be a small coroutine stack.
	 */
	if (exit_key_ok)
		pthread_setspecific(exit_key, pthread_getspecific(exit_key));
	/* Once per load: a re-initialised engine must not run the handler twice. */
	if (!atfork_done)
		pthread_atfork(NULL, NULL, atfork_child);
	atfork_done = 1;
}

void pk_thread_foreach(void (*fn)(struct pk_thread *, void *), void *arg)
{
	unsigned int i, hwm = pk_load(&pool_hwm);

	for (i = 0; i < hwm; i++)
		if (pk_load(&pool[i].tid))
			fn(&pool[i], arg);
}

/*
 * One look at a thread: its state, CPU ticks (stat fields 14-15), context
 * switches, and whether SIGTRAP waits in its own pending set.
 */
struct task_look {
	char state;
	unsigned long long ticks, switches;
	int trap_pending;
};

static int task_look(int tid, struct task_look *l)
{
	char path[64], buf[512], *p;
	unsigned long long ut = 0, st = 0, v;
	ssize_t n;
	FILE *f;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	/* The name may hold spaces and parentheses: the fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	l->state = p[2];
	p += 2;
	for (i = 3; i < 14 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -EIO;
	l->ticks = ut + st;
	l->switches = 0;
	l->trap_pending = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		if (sscanf(buf, "SigPnd: %llx", &v) == 1 || sscanf(buf, "ShdPnd: %llx", &v) == 1)
			l->trap_pending |= (int)((v >> (SIGTRAP - 1)) & 1);
		else if (sscanf(buf, "voluntary_ctxt_switches: %llu", &v) == 1 ||
			 sscanf(buf, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
			l->switches += v;
	}
	fclose(f);
	return 0;
}

/*
 * Grace periods, for what a thread may do between two instructions with no
 * record of it: a thread preempted there is runnable ('R') and does not run
 * until scheduled again. Every other thread passes the grace period once it
 * has been seen off the CPU (not 'R'), switched, or using CPU time since the
 * start (the one instruction it was at is the first it runs), or is gone.
 */
int pk_grace_start(struct pk_grace *g)
{
	int me = gettid_raw(), err = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	size_t cap = 0;

	memset(g, 0, sizeof(*g));
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);
		struct task_look l;

		if (tid <= 0 || tid == me || task_look(tid, &l))
			continue;
		if (g->n == cap) {
			struct pk_grace_task *v =
			    realloc(g->v, (cap = cap ? 2 * cap : 64) * sizeof(*g->v));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			g->v = v;
		}
		g->v[g->n].tid = tid;
		g->v[g->n].ticks = l.ticks;
		g->v[g->n].switches = l.switches;
		g->v[g->n].passed = l.state != 'R';
		g->v[g->n].trap_pending = l.trap_pending;
		g->n++;
	}
	closedir(d);
	if (err)
		pk_grace_end(g);
	return err;
}

int pk_grace_passed(struct pk_grace *g, int need_no_trap)
{
	size_t i, left = 0;

	for (i = 0; i < g->n; i++) {
		struct pk_grace_task *t = &g->v[i];
		struct task_look l;

		if (t->passed && !(need_no_trap && t->trap_pending))
			continue;
		if (task_look(t->tid, &l)) {
			t->passed = 1; /* gone */
			t->trap_pending = 0;
			continue;
		}
		t->trap_pending = l.trap_pending;
		if (l.state != 'R' || l.ticks != t->ticks || l.switches != t->switches)
			t->passed = 1;
		if (!t->passed || (need_no_trap && t->trap_pending))
			left++;
	}
	return left == 0;
}

void pk_grace_end(struct pk_grace *g)
{
	free(g->v);
	memset(g, 0, sizeof(*g));
}

/*
 * A thread can execute an int3 and then be preempted inside the kernel
 * before its SIGTRAP is delivered; our handler must still be there when it
 * is: a grace period with no SIGTRAP pending. Bounded: -EBUSY after @max_ms.
 */
int pk_wait_traps_delivered(int max_ms)
{
	struct pk_grace g;
	int ms, err = pk_grace_start(&g);

	for (ms = 0; !err; ms++) {
		if (pk_grace_passed(&g, 1))
			break;
		if (ms >= max_ms)
			err = -EBUSY;
		else
			pause_ms();
	}
	pk_grace_end(&g);
	return err;
}

/* Before the engine's code is unloaded: no thread-exit destructor may point into it. */
void pk_thread_release(void)
{
	unsigned int i;

	/* Every probe is gone and no thread is in the dispatcher: no one runs on these. */
	for (i = 0; i < MAX_THREADS; i++) {
		if (pool[i].hstack)
			munmap((void *)(pool[i].hstack - PK_HSTACK_SIZE - 4096),
			       PK_HSTACK_SIZE + 4096);
		pool[i].hstack = 0;
	}
	if (thread_init_done && exit_key_ok)
		pthread_key_delete(exit_key);
	exit_key_ok = 0;
	thread_init_done = 0;
}
