// SPDX-License-Identifier: MIT
/*
 * Registration churn against running code. Worker threads call probed
 * functions in a tight loop and check every result against an independent
 * reference, while the main thread registers and unregisters probes and
 * return probes on those functions (single and batch, enabled and disabled)
 * thousands of times. Probe points are found by decoding, so that they land
 * on relocated instructions as well as on emulated ones (jcc, jmp, call,
 * indirect jmp, ret).
 *
 * Handlers count hits per thread, so the main thread can check exact counts
 * for its own calls whatever the workers do, and check the registers they
 * are shown. Probe structures are scribbled over (plain build) or freed (ASan
 * build) as soon as unregistration returns: a handler still reaching one is
 * a use after unregister.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "probekit.h"
#include "pk_test.h"
#include "insn.h"
#include "sym/sym.h"

#if defined(__SANITIZE_ADDRESS__)
#define FREE_AFTER_UNREGISTER 1
#else
#define FREE_AFTER_UNREGISTER 0
#endif

#define NR_WORKERS    4
#define WORKER_NICE   5
#define NR_REGISTERS  10000 /* register calls, single or batch */
#define MAX_IDS       64
#define MAX_GROUPS    10
#define MAX_PER_GROUP 4
#define MAX_POINTS    64
#define ARG_LIMIT     1000
/* Even, so that entry handlers that decline odd first arguments accept these. */
#define CAL_A 42
#define CAL_B 18

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define KP_MAGIC 0x6b70726f62656b31UL
#define RP_MAGIC 0x7270726f62656b31UL
#define RD_MAGIC 0x7264617461000001UL

/* ---- the probed functions and their references ---- */

volatile long st_bias = 5;
unsigned char st_data[160];

__attribute__((noipa)) long st_leaf(long a, long b)
{
	(void)b;
	return a * 3 + st_bias;
}

__attribute__((noipa)) long st_loop(long a, long b)
{
	long acc = 0, i;

	for (i = 0; i < (a & 63); i++) {
		if (i & 1)
			acc += i * b;
		else
			acc -= i ^ b;
	}
	return acc + st_bias;
}

__attribute__((noipa)) long st_switch(long a, long b)
{
	switch (a & 7) {
	case 0: return a + b;
	case 1: return a * b - 3;
	case 2: return (a << 3) ^ b;
	case 3: return a - 7 * b;
	case 4: return (a | b) + 11;
	case 5: return a * a - b;
	case 6: return (a & b) * 13;
	default: return b - a;
	}
}

__attribute__((noipa)) long st_call(long a, long b)
{
	long x = st_leaf(a, 0), y = st_leaf(b, 0);

	return x * 7 - y + st_loop(b, a);
}

__attribute__((noipa)) long st_adler(long a, long b)
{
	const unsigned char *p = st_data + (a & 31);
	unsigned long s1 = 1, s2 = 0;
	long n = b & 127;

	while (n-- > 0) {
		s1 = (s1 + *p++) % 65521;
		s2 = (s2 + s1) % 65521;
	}
	return (long)(s2 << 16 | s1);
}

static __attribute__((noipa)) long ref_leaf(long a, long b)
{
	(void)b;
	return st_bias + a + a + a;
}

static __attribute__((noipa)) long ref_loop(long a, long b)
{
	long acc = st_bias, n = a & 63, i;

	for (i = 1; i < n; i += 2)
		acc += i * b;
	for (i = 0; i < n; i += 2)
		acc -= i ^ b;
	return acc;
}

static __attribute__((noipa)) long ref_switch(long a, long b)
{
	long k = a & 7;

	if (k == 0)
		return a + b;
	if (k == 1)
		return a * b - 3;
	if (k == 2)
		return (a * 8) ^ b;
	if (k == 3)
		return a - 7 * b;
	if (k == 4)
		return (a | b) + 11;
	if (k == 5)
		return a * a - b;
	if (k == 6)
		return (a & b) * 13;
	return b - a;
}

static __attribute__((noipa)) long ref_call(long a, long b)
{
	return ref_leaf(a, 0) * 7 - ref_leaf(b, 0) + ref_loop(b, a);
}

static __attribute__((noipa)) long ref_adler(long a, long b)
{
	return (long)adler32(1, st_data + (a & 31), (unsigned int)(b & 127));
}

struct target {
	const char *name;
	long (*fn)(long, long);
	long (*ref)(long, long);
	int nargs;
	size_t size;
	unsigned char *orig;
};

static struct target targets[] = {
	{"st_leaf", st_leaf, ref_leaf, 1, 0, NULL},
	{"st_loop", st_loop, ref_loop, 2, 0, NULL},
	{"st_switch", st_switch, ref_switch, 2, 0, NULL},
	{"st_call", st_call, ref_call, 2, 0, NULL},
	{"st_adler", st_adler, ref_adler, 2, 0, NULL},
};
#define NR_TARGETS ((int)(sizeof(targets) / sizeof(targets[0])))

/* ---- probe points ---- */

struct point {
	int target;
	unsigned int off;
	uintptr_t addr;
	struct pk_insn insn;
	/* Times the instruction runs for one call of targets[i].fn(CAL_A, CAL_B). */
	unsigned long calib[NR_TARGETS];
};

static struct point points[MAX_POINTS];
static int nr_points;
static int entry_point[NR_TARGETS];

/* ---- what handlers saw ---- */

static __thread unsigned long tl_pre[MAX_IDS], tl_post[MAX_IDS], tl_entry[MAX_IDS],
	tl_ret[MAX_IDS];
static unsigned long nr_pre, nr_post, nr_entry, nr_ret;
static unsigned long nr_bad;
static int bad_noted;
static char bad_what[160];

static void note_bad(const char *what, unsigned long v1, unsigned long v2)
{
	int zero = 0;

	__atomic_add_fetch(&nr_bad, 1, __ATOMIC_RELAXED);
	if (!__atomic_compare_exchange_n(&bad_noted, &zero, 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	snprintf(bad_what, sizeof(bad_what), "%s (0x%lx, 0x%lx)", what, v1, v2);
}

static int regs_plausible(const struct pk_regs *r)
{
	/* Bit 1 of rflags always reads 1; a set TF would mean a leaked single step. */
	return r->cs == 0x33 && (r->flags & 0x2) && !(r->flags & 0x100);
}

struct skp {
	struct pk_probe kp;
	unsigned long magic;
	int id;
	int point;
	int ever_disabled;
};

struct srp {
	struct pk_retprobe rp;
	unsigned long magic;
	int id;
	int target;
	int decline_odd;
};

struct rdata {
	unsigned long magic;
	long a, b;
	int target;
};

static int kp_pre(struct pk_probe *p, struct pk_regs *r)
{
	struct skp *k = container_of(p, struct skp, kp);
	const struct point *pt;

	if (k->magic != KP_MAGIC || k->id < 0 || k->id >= MAX_IDS || k->point < 0 ||
	    k->point >= nr_points) {
		note_bad("pre_handler on a dead probe", (unsigned long)p, k->magic);
		return 0;
	}
	pt = &points[k->point];
	tl_pre[k->id]++;
	__atomic_add_fetch(&nr_pre, 1, __ATOMIC_RELAXED);
	if (r->ip != (unsigned long)p->addr || r->ip != pt->addr)
		note_bad("pre: ip is not the probe address", r->ip, (unsigned long)p->addr);
	if (!regs_plausible(r))
		note_bad("pre: implausible cs/flags", r->cs, r->flags);
	if (pt->off == 0) {
		if ((r->sp & 15) != 8)
			note_bad("pre: misaligned sp at entry", r->sp, pt->addr);
		if (pk_regs_get_argument(r, 0) >= ARG_LIMIT ||
		    (targets[pt->target].nargs > 1 && pk_regs_get_argument(r, 1) >= ARG_LIMIT))
			note_bad("pre: arguments out of range", r->di, r->si);
	}
	return 0;
}

static void kp_post(struct pk_probe *p, struct pk_regs *r, unsigned long flags)
{
	struct skp *k = container_of(p, struct skp, kp);
	const struct point *pt;
	uintptr_t next;

	(void)flags;
	if (k->magic != KP_MAGIC || k->id < 0 || k->id >= MAX_IDS || k->point < 0 ||
	    k->point >= nr_points) {
		note_bad("post_handler on a dead probe", (unsigned long)p, k->magic);
		return;
	}
	pt = &points[k->point];
	next = pt->addr + pt->insn.len;
	tl_post[k->id]++;
	__atomic_add_fetch(&nr_post, 1, __ATOMIC_RELAXED);
	if (!regs_plausible(r))
		note_bad("post: implausible cs/flags", r->cs, r->flags);
	switch (pt->insn.kind) {
	case PK_INSN_RELOC:
		if (r->ip != next)
			note_bad("post: ip is not after the instruction", r->ip, next);
		break;
	case PK_INSN_JCC:
	case PK_INSN_LOOP:
		if (r->ip != next && r->ip != pt->insn.target)
			note_bad("post: jcc went neither way", r->ip, pt->insn.target);
		break;
	case PK_INSN_JMP:
		if (r->ip != pt->insn.target)
			note_bad("post: jmp did not reach its target", r->ip, pt->insn.target);
		break;
	case PK_INSN_CALL:
		if (r->ip != pt->insn.target || *(unsigned long *)r->sp != next)
			note_bad("post: call did not push its return", r->ip,
				 *(unsigned long *)r->sp);
		break;
	case PK_INSN_JMP_IND:
		/* A switch jump table stays inside its function. */
		if (r->ip < pt->addr - pt->off || r->ip >= pt->addr - pt->off +
		    targets[pt->target].size)
			note_bad("post: indirect jmp left the function", r->ip, pt->addr);
		break;
	default:
		if (!r->ip)
			note_bad("post: null ip", r->ip, pt->addr);
		break;
	}
}

static int rp_entry(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	struct srp *s = container_of(ri->rp, struct srp, rp);
	struct rdata *d = (struct rdata *)ri->data;

	if (s->magic != RP_MAGIC || s->id < 0 || s->id >= MAX_IDS) {
		note_bad("entry_handler on a dead retprobe", (unsigned long)ri->rp, s->magic);
		return 1;
	}
	tl_entry[s->id]++;
	__atomic_add_fetch(&nr_entry, 1, __ATOMIC_RELAXED);
	if (((uintptr_t)ri->data & 15) || r->ip != (unsigned long)s->rp.kp.addr ||
	    (r->sp & 15) != 8 || !regs_plausible(r))
		note_bad("entry: bad instance or registers", r->ip, r->sp);
	d->magic = RD_MAGIC;
	d->a = (long)pk_regs_get_argument(r, 0);
	d->b = (long)pk_regs_get_argument(r, 1);
	d->target = s->target;
	if ((unsigned long)d->a >= ARG_LIMIT)
		note_bad("entry: argument out of range", (unsigned long)d->a, r->ip);
	return s->decline_odd && (d->a & 1);
}

static int rp_ret(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	struct srp *s = container_of(ri->rp, struct srp, rp);
	struct rdata *d = (struct rdata *)ri->data;
	long want;

	if (s->magic != RP_MAGIC || s->id < 0 || s->id >= MAX_IDS) {
		note_bad("return handler on a dead retprobe", (unsigned long)ri->rp, s->magic);
		return 0;
	}
	tl_ret[s->id]++;
	__atomic_add_fetch(&nr_ret, 1, __ATOMIC_RELAXED);
	if (d->magic != RD_MAGIC || d->target != s->target) {
		note_bad("return: instance data not what entry stored", d->magic,
			 (unsigned long)d->target);
		return 0;
	}
	if (s->decline_odd && (d->a & 1))
		note_bad("return: handler ran for a declined call", (unsigned long)d->a, 0);
	if (r->ip != (unsigned long)ri->ret_addr || (r->sp & 15) || !regs_plausible(r))
		note_bad("return: bad registers", r->ip, r->sp);
	want = targets[d->target].ref(d->a, d->b);
	if ((long)pk_regs_return_value(r) != want)
		note_bad("return: wrong return value", pk_regs_return_value(r),
			 (unsigned long)want);
	return 0;
}

/* ---- finding probe points ---- */

static void add_point(int ti, unsigned int off, const struct pk_insn *insn)
{
	int i;

	for (i = 0; i < nr_points; i++)
		if (points[i].target == ti && points[i].off == off)
			return;
	if (nr_points == MAX_POINTS)
		return;
	points[nr_points].target = ti;
	points[nr_points].off = off;
	points[nr_points].addr = (uintptr_t)targets[ti].fn + off;
	points[nr_points].insn = *insn;
	nr_points++;
}

/*
 * The entry, the first instruction of each emulated kind, the first one with a
 * RIP-relative operand, and a few plain ones spread over the body.
 */
static int pick_points(int ti)
{
	struct target *t = &targets[ti];
	unsigned int offs[512], off = 0;
	struct pk_insn ins[512], *in;
	int n = 0, i, len, seen_kind[PK_INSN_RET + 1] = {0}, seen_rip = 0;

	while (off < t->size && n < 512) {
		len = pk_insn_length(t->orig + off, t->size - off);
		if (len <= 0)
			return -1;
		offs[n] = off;
		/* Unsupported instructions simply are not candidates. */
		if (pk_insn_decode(t->orig + off, t->size - off, (uintptr_t)t->fn + off, &ins[n]))
			ins[n].len = 0;
		n++;
		off += (unsigned int)len;
	}
	if (off != t->size)
		return -1;
	for (i = 0; i < n; i++) {
		in = &ins[i];
		if (!in->len)
			continue;
		if (i == 0 || (in->kind != PK_INSN_RELOC && !seen_kind[in->kind]) ||
		    (in->kind == PK_INSN_RELOC && in->disp_off && !seen_rip) ||
		    (in->kind == PK_INSN_RELOC && (i == n / 4 || i == n / 2 || i == 3 * n / 4)))
			add_point(ti, offs[i], in);
		seen_kind[in->kind] = 1;
		if (in->kind == PK_INSN_RELOC && in->disp_off)
			seen_rip = 1;
	}
	return 0;
}

static unsigned long cal_hits;

static int cal_pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	(void)r;
	cal_hits++;
	return 0;
}

/* Count how often each point runs for each function's calibration call. */
static void calibrate(void)
{
	struct pk_probe p;
	int i, j, k, err;

	for (i = 0; i < nr_points; i++) {
		memset(&p, 0, sizeof(p));
		p.addr = (void *)points[i].addr;
		p.pre_handler = cal_pre;
		err = pk_register_probe(&p);
		CHECK_EQ(err, 0);
		if (err)
			continue;
		for (j = 0; j < NR_TARGETS; j++) {
			cal_hits = 0;
			CHECK_EQ(targets[j].fn(CAL_A, CAL_B), targets[j].ref(CAL_A, CAL_B));
			points[i].calib[j] = cal_hits;
		}
		pk_unregister_probe(&p);
	}
	/* Keep only points that run: the others prove nothing under load. */
	for (i = j = 0; i < nr_points; i++) {
		unsigned long sum = 0;

		for (k = 0; k < NR_TARGETS; k++)
			sum += points[i].calib[k];
		if (sum || points[i].off == 0)
			points[j++] = points[i];
	}
	nr_points = j;
}

static int setup_done, setup_ok;

static void test_setup(void)
{
	struct pk_sym_info si;
	int i, j, kinds[PK_INSN_RET + 1] = {0}, rip = 0;

	setup_done = 1;
	for (i = 0; i < (int)sizeof(st_data); i++)
		st_data[i] = (unsigned char)(i * 37 + 11);
	for (i = 0; i < NR_TARGETS; i++) {
		struct target *t = &targets[i];

		CHECK(pk_lookup_name(t->name) == (void *)t->fn);
		CHECK_EQ(pk_sym_lookup(t->name, &si), 0);
		CHECK(si.size > 0 && si.size < 4096);
		if (si.size == 0 || si.size >= 4096)
			return;
		t->size = si.size;
		t->orig = malloc(t->size);
		memcpy(t->orig, (void *)t->fn, t->size);
		CHECK_EQ(pick_points(i), 0);
	}
	calibrate();
	for (i = 0; i < NR_TARGETS; i++) {
		entry_point[i] = -1;
		for (j = 0; j < nr_points; j++)
			if (points[j].target == i && points[j].off == 0)
				entry_point[i] = j;
		CHECK(entry_point[i] >= 0);
		if (entry_point[i] >= 0)
			CHECK_EQ(points[entry_point[i]].calib[i], 1);
	}
	for (j = 0; j < nr_points; j++) {
		kinds[points[j].insn.kind]++;
		rip += points[j].insn.kind == PK_INSN_RELOC && points[j].insn.disp_off;
	}
	printf("  %d probe points: %d relocated (%d rip-relative), %d jcc, %d jmp, %d call, "
	       "%d indirect jmp, %d ret\n",
	       nr_points, kinds[PK_INSN_RELOC], rip, kinds[PK_INSN_JCC], kinds[PK_INSN_JMP],
	       kinds[PK_INSN_CALL], kinds[PK_INSN_JMP_IND], kinds[PK_INSN_RET]);
	/* The point of the exercise: both ways of running the displaced instruction. */
	CHECK(kinds[PK_INSN_RELOC] >= NR_TARGETS);
	CHECK(kinds[PK_INSN_JCC] > 0);
	CHECK(kinds[PK_INSN_CALL] > 0);
	CHECK(kinds[PK_INSN_RET] > 0);
	CHECK(rip > 0);
	setup_ok = !pk_t_failed_case;
}

/* ---- a watchdog, so that a library that hangs fails instead ---- */

#define WATCHDOG_IDLE 60 /* seconds without any progress of the main thread */

static unsigned long heartbeat;
static const char *current_case = "test_setup";

static void beat(void)
{
	__atomic_add_fetch(&heartbeat, 1, __ATOMIC_RELAXED);
}

static void *watchdog_main(void *arg)
{
	unsigned long last = ~0UL, now;
	int idle = 0;

	(void)arg;
	for (;;) {
		sleep(1);
		now = __atomic_load_n(&heartbeat, __ATOMIC_RELAXED);
		if (now != last) {
			last = now;
			idle = 0;
			continue;
		}
		/* Not a time limit on the test: only a main thread that is stuck trips it. */
		if (++idle == WATCHDOG_IDLE) {
			printf("  the main thread made no progress for %d s: stuck in the library\n"
			       "FAIL %s\n",
			       WATCHDOG_IDLE, current_case);
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

/* ---- workers ---- */

static int stop, started;
static unsigned long nr_wrong;
static char wrong_what[160];

struct worker {
	pthread_t th;
	unsigned long seed;
	unsigned long calls;
};

static unsigned long rnd(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int i;

	/*
	 * Five busy threads on a small machine would leave the registering
	 * thread a fifth of a CPU; a lower priority keeps the workers busy
	 * without making the run time depend on the machine's core count.
	 */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
	__atomic_add_fetch(&started, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < NR_TARGETS; i++) {
			long a = (long)(rnd(&w->seed) % ARG_LIMIT);
			long b = (long)(1 + rnd(&w->seed) % (ARG_LIMIT - 1));
			long got = targets[i].fn(a, b), want = targets[i].ref(a, b);

			w->calls++;
			if (got != want &&
			    __atomic_add_fetch(&nr_wrong, 1, __ATOMIC_RELAXED) == 1)
				snprintf(wrong_what, sizeof(wrong_what),
					 "%s(%ld, %ld) = %ld, want %ld", targets[i].name, a, b,
					 got, want);
		}
	}
	return NULL;
}

/* ---- the registering side ---- */

struct group {
	int used;
	int is_ret;
	int batch;
	int n;
	void *m[MAX_PER_GROUP];
};

static struct group groups[MAX_GROUPS];
static int ids_used[MAX_IDS];
static void *live_by_id[MAX_IDS];
static int live_is_ret[MAX_IDS];
static struct skp kp_store[MAX_IDS];
static struct srp rp_store[MAX_IDS];
static unsigned long seed_main = 0x9e3779b97f4a7c15UL;
static unsigned long nr_register_calls, nr_probes_registered, nr_toggles, nr_rollbacks;
static unsigned long kp_nmissed_bad, rp_nmissed_bad;

static int id_get(void)
{
	int i;

	for (i = 0; i < MAX_IDS; i++)
		if (!ids_used[i]) {
			ids_used[i] = 1;
			return i;
		}
	return -1;
}

static struct skp *skp_new(int id, int point, int disabled)
{
	struct skp *k = FREE_AFTER_UNREGISTER ? malloc(sizeof(*k)) : &kp_store[id];
	int h = (int)(rnd(&seed_main) % 4);

	memset(k, 0, sizeof(*k));
	k->magic = KP_MAGIC;
	k->id = id;
	k->point = point;
	/* Half by name and offset, half by address. */
	if (h & 1) {
		k->kp.symbol_name = targets[points[point].target].name;
		k->kp.offset = points[point].off;
	} else {
		k->kp.addr = (void *)points[point].addr;
	}
	k->kp.pre_handler = h != 2 ? kp_pre : NULL;
	k->kp.post_handler = h != 3 ? kp_post : NULL;
	k->kp.flags = disabled ? PK_FLAG_DISABLED : 0;
	k->ever_disabled = disabled;
	return k;
}

static struct srp *srp_new(int id, int target, int disabled)
{
	struct srp *s = FREE_AFTER_UNREGISTER ? malloc(sizeof(*s)) : &rp_store[id];
	static const int maxactive[] = {0, 1, 2, 8};

	memset(s, 0, sizeof(*s));
	s->magic = RP_MAGIC;
	s->id = id;
	s->target = target;
	s->decline_odd = (int)(rnd(&seed_main) % 3 == 0);
	s->rp.kp.symbol_name = targets[target].name;
	s->rp.kp.flags = disabled ? PK_FLAG_DISABLED : 0;
	s->rp.handler = rp_ret;
	s->rp.entry_handler = rp_entry;
	s->rp.maxactive = maxactive[rnd(&seed_main) % 4];
	s->rp.data_size = sizeof(struct rdata) + rnd(&seed_main) % 64;
	return s;
}

/* After unregistration the structure is the caller's again: trash it. */
static void release(void *m, int is_ret)
{
	int id = is_ret ? ((struct srp *)m)->id : ((struct skp *)m)->id;

	memset(m, 0xaa, is_ret ? sizeof(struct srp) : sizeof(struct skp));
	if (FREE_AFTER_UNREGISTER)
		free(m);
	ids_used[id] = 0;
	live_by_id[id] = NULL;
}

static int probe_enabled(void *m, int is_ret)
{
	const struct pk_probe *p = is_ret ? &((struct srp *)m)->rp.kp : &((struct skp *)m)->kp;

	return !(p->flags & PK_FLAG_DISABLED);
}

/*
 * Call every function once with the calibration arguments and check that each
 * live probe saw exactly its share of this thread's calls.
 */
static void self_check(void)
{
	unsigned long pre0[MAX_IDS], post0[MAX_IDS], entry0[MAX_IDS], ret0[MAX_IDS];
	int ti, id;

	for (ti = 0; ti < NR_TARGETS; ti++) {
		memcpy(pre0, tl_pre, sizeof(pre0));
		memcpy(post0, tl_post, sizeof(post0));
		memcpy(entry0, tl_entry, sizeof(entry0));
		memcpy(ret0, tl_ret, sizeof(ret0));
		beat();
		CHECK_EQ(targets[ti].fn(CAL_A, CAL_B), targets[ti].ref(CAL_A, CAL_B));
		for (id = 0; id < MAX_IDS; id++) {
			void *m = live_by_id[id];
			unsigned long want;

			if (!m) {
				CHECK_EQ(tl_pre[id] - pre0[id] + tl_post[id] - post0[id] +
						 tl_entry[id] - entry0[id] + tl_ret[id] - ret0[id],
					 0);
				continue;
			}
			if (live_is_ret[id]) {
				struct srp *s = m;

				want = 0;
				if (probe_enabled(m, 1))
					want = points[entry_point[s->target]].calib[ti];
				CHECK_EQ(tl_ret[id] - ret0[id], tl_entry[id] - entry0[id]);
				/* A small pool may be drained by the workers' calls. */
				if (s->rp.maxactive == 0 || s->rp.maxactive >= 8)
					CHECK_EQ(tl_entry[id] - entry0[id], want);
				else
					CHECK(tl_entry[id] - entry0[id] <= want);
			} else {
				struct skp *k = m;

				want = probe_enabled(m, 0) ? points[k->point].calib[ti] : 0;
				CHECK_EQ(tl_pre[id] - pre0[id], k->kp.pre_handler ? want : 0);
				CHECK_EQ(tl_post[id] - post0[id], k->kp.post_handler ? want : 0);
			}
		}
	}
}

static int live_groups(void)
{
	int i, n = 0;

	for (i = 0; i < MAX_GROUPS; i++)
		n += groups[i].used;
	return n;
}

static void code_unchanged(void)
{
	int i;

	for (i = 0; i < NR_TARGETS; i++)
		if (memcmp((void *)targets[i].fn, targets[i].orig, targets[i].size)) {
			printf("  %s: code differs from before any probe\n", targets[i].name);
			CHECK(0);
		}
}

/* A batch whose last member cannot register: all or nothing. */
static void batch_rollback(int is_ret)
{
	void *m[3];
	int i, err, id[3];

	for (i = 0; i < 3; i++) {
		id[i] = id_get();
		if (id[i] < 0) {
			while (i--)
				ids_used[id[i]] = 0;
			return;
		}
	}
	for (i = 0; i < 3; i++) {
		int pt = (int)(rnd(&seed_main) % (unsigned long)nr_points);

		if (is_ret)
			m[i] = srp_new(id[i], points[pt].target, 0);
		else
			m[i] = skp_new(id[i], pt, 0);
	}
	if (is_ret) {
		/* Return probes only go on function entries. */
		((struct srp *)m[2])->rp.kp.offset = 1;
		err = pk_register_retprobes((struct pk_retprobe **)m, 3);
		CHECK_EQ(err, -EINVAL);
		for (i = 0; i < 3; i++)
			CHECK_EQ(pk_disable_retprobe(&((struct srp *)m[i])->rp), -EINVAL);
	} else {
		struct skp *k = m[2];
		const struct point *pt = &points[k->point];

		/* Inside an instruction: never a boundary. */
		while (pt->insn.len < 2)
			pt = &points[rnd(&seed_main) % (unsigned long)nr_points];
		k->kp.symbol_name = targets[pt->target].name;
		k->kp.addr = NULL;
		k->kp.offset = pt->off + 1;
		err = pk_register_probes((struct pk_probe **)m, 3);
		CHECK_EQ(err, -EILSEQ);
		for (i = 0; i < 3; i++)
			CHECK_EQ(pk_disable_probe(&((struct skp *)m[i])->kp), -EINVAL);
	}
	nr_register_calls++;
	nr_rollbacks++;
	self_check();
	for (i = 0; i < 3; i++)
		release(m[i], is_ret);
}

static void group_add(void)
{
	struct group *g = NULL;
	int i, err, kind = (int)(rnd(&seed_main) % 4), disabled;

	for (i = 0; i < MAX_GROUPS && !g; i++)
		if (!groups[i].used)
			g = &groups[i];
	if (!g)
		return;
	memset(g, 0, sizeof(*g));
	g->is_ret = kind >= 2;
	g->batch = kind & 1;
	g->n = g->batch ? 2 + (int)(rnd(&seed_main) % (MAX_PER_GROUP - 1)) : 1;
	for (i = 0; i < g->n; i++) {
		int id = id_get(), pt = (int)(rnd(&seed_main) % (unsigned long)nr_points);

		if (id < 0) {
			g->n = i;
			break;
		}
		disabled = rnd(&seed_main) % 5 == 0;
		if (g->is_ret)
			g->m[i] = srp_new(id, points[pt].target, disabled);
		else
			g->m[i] = skp_new(id, pt, disabled);
	}
	if (!g->n)
		return;
	if (g->is_ret)
		err = g->batch ? pk_register_retprobes((struct pk_retprobe **)g->m, g->n)
			       : pk_register_retprobe(g->m[0]);
	else
		err = g->batch ? pk_register_probes((struct pk_probe **)g->m, g->n)
			       : pk_register_probe(g->m[0]);
	nr_register_calls++;
	CHECK_EQ(err, 0);
	if (err) {
		for (i = 0; i < g->n; i++)
			release(g->m[i], g->is_ret);
		return;
	}
	nr_probes_registered += (unsigned long)g->n;
	g->used = 1;
	for (i = 0; i < g->n; i++) {
		int id = g->is_ret ? ((struct srp *)g->m[i])->id : ((struct skp *)g->m[i])->id;

		live_by_id[id] = g->m[i];
		live_is_ret[id] = g->is_ret;
	}
}

static void group_toggle(struct group *g)
{
	void *m = g->m[rnd(&seed_main) % (unsigned long)g->n];

	nr_toggles++;
	if (g->is_ret) {
		struct srp *s = m;

		if (probe_enabled(m, 1)) {
			CHECK_EQ(pk_disable_retprobe(&s->rp), 0);
			CHECK(s->rp.kp.flags & PK_FLAG_DISABLED);
		} else {
			CHECK_EQ(pk_enable_retprobe(&s->rp), 0);
			CHECK(!(s->rp.kp.flags & PK_FLAG_DISABLED));
		}
	} else {
		struct skp *k = m;

		k->ever_disabled = 1;
		if (probe_enabled(m, 0)) {
			CHECK_EQ(pk_disable_probe(&k->kp), 0);
			CHECK(k->kp.flags & PK_FLAG_DISABLED);
		} else {
			CHECK_EQ(pk_enable_probe(&k->kp), 0);
			CHECK(!(k->kp.flags & PK_FLAG_DISABLED));
		}
	}
}

static void group_remove(struct group *g)
{
	int i;

	for (i = 0; i < g->n; i++) {
		if (g->is_ret) {
			struct srp *s = g->m[i];

			/* Nothing recurses or jumps away here: a big pool never runs dry. */
			if ((s->rp.maxactive == 0 || s->rp.maxactive >= 8) && s->rp.nmissed)
				rp_nmissed_bad++;
		} else {
			struct skp *k = g->m[i];

			/* No handler calls a probed function, so nothing re-enters. */
			if (!k->ever_disabled && k->kp.nmissed)
				kp_nmissed_bad++;
		}
	}
	if (g->is_ret) {
		if (g->batch) {
			pk_unregister_retprobes((struct pk_retprobe **)g->m, g->n);
		} else {
			for (i = 0; i < g->n; i++)
				pk_unregister_retprobe(g->m[i]);
		}
	} else {
		if (g->batch) {
			pk_unregister_probes((struct pk_probe **)g->m, g->n);
		} else {
			for (i = 0; i < g->n; i++)
				pk_unregister_probe(g->m[i]);
		}
	}
	for (i = 0; i < g->n; i++) {
		/* Once gone, disable must not find it. */
		if (g->is_ret)
			CHECK_EQ(pk_disable_retprobe(&((struct srp *)g->m[i])->rp), -EINVAL);
		else
			CHECK_EQ(pk_disable_probe(&((struct skp *)g->m[i])->kp), -EINVAL);
		release(g->m[i], g->is_ret);
	}
	g->used = 0;
}

/*
 * Several return probes and a kprobe on one function entry, without load:
 * every one of them sees every call, with the right value.
 */
static void test_shared_entry(void)
{
	struct srp *s[3];
	struct skp *k;
	int n, i, ti = 1 /* st_loop */;

	if (!setup_ok) {
		printf("  setup failed\n");
		CHECK(0);
		return;
	}
	for (n = 1; n <= 3; n++) {
		k = skp_new(id_get(), entry_point[ti], 0);
		k->kp.pre_handler = kp_pre;
		k->kp.post_handler = kp_post;
		CHECK_EQ(pk_register_probe(&k->kp), 0);
		live_by_id[k->id] = k;
		live_is_ret[k->id] = 0;
		for (i = 0; i < n; i++) {
			s[i] = srp_new(id_get(), ti, 0);
			s[i]->decline_odd = 0;
			s[i]->rp.maxactive = 0;
			CHECK_EQ(pk_register_retprobe(&s[i]->rp), 0);
			live_by_id[s[i]->id] = s[i];
			live_is_ret[s[i]->id] = 1;
		}
		/* st_call reaches st_loop one frame deeper. */
		self_check();
		for (i = 0; i < n; i++)
			CHECK_EQ(s[i]->rp.nmissed, 0);
		for (i = 0; i < n; i++) {
			pk_unregister_retprobe(&s[i]->rp);
			release(s[i], 1);
		}
		pk_unregister_probe(&k->kp);
		release(k, 0);
		if (pk_t_failed_case) {
			printf("  with %d return probes on %s\n", n, targets[ti].name);
			break;
		}
	}
	CHECK_EQ(nr_bad, 0);
	if (nr_bad)
		printf("  first bad handler observation: %s\n", bad_what);
	code_unchanged();
}

static void test_churn(void)
{
	struct worker w[NR_WORKERS];
	unsigned long calls = 0, step = 0;
	char buf[4096];
	int i, n;

	if (!setup_ok) {
		printf("  setup failed\n");
		CHECK(0);
		return;
	}
	for (i = 0; i < NR_WORKERS; i++) {
		w[i].seed = 0x1234567UL * (unsigned long)(i + 1);
		w[i].calls = 0;
		CHECK_EQ(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
	}
	while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) < NR_WORKERS)
		sched_yield();

	while (nr_register_calls < NR_REGISTERS || live_groups()) {
		int live = live_groups();
		unsigned long r = rnd(&seed_main);

		step++;
		beat();
		if (nr_register_calls < NR_REGISTERS && r % 97 == 0) {
			batch_rollback((int)(r >> 8) & 1);
		} else if (nr_register_calls < NR_REGISTERS &&
			   (!live || (live < MAX_GROUPS && r % 2))) {
			group_add();
		} else {
			struct group *g;

			do
				g = &groups[rnd(&seed_main) % MAX_GROUPS];
			while (!g->used);
			if (r % 8 < 2)
				group_toggle(g);
			else
				group_remove(g);
		}
		/* Checking every step would make the main thread the bottleneck. */
		if (step % 8 == 0)
			self_check();
		if (!live_groups())
			code_unchanged();
		if (pk_t_failed_case)
			break;
	}
	while (live_groups())
		for (i = 0; i < MAX_GROUPS; i++)
			if (groups[i].used)
				group_remove(&groups[i]);

	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NR_WORKERS; i++) {
		pthread_join(w[i].th, NULL);
		CHECK(w[i].calls > 0);
		calls += w[i].calls;
	}
	printf("  %lu register calls (%lu probes, %lu rollbacks), %lu toggles; %lu worker calls;"
	       " hits: %lu pre, %lu post, %lu entry, %lu return\n",
	       nr_register_calls, nr_probes_registered, nr_rollbacks, nr_toggles, calls, nr_pre,
	       nr_post, nr_entry, nr_ret);
	CHECK_EQ(nr_wrong, 0);
	if (nr_wrong)
		printf("  first wrong result: %s\n", wrong_what);
	CHECK_EQ(nr_bad, 0);
	if (nr_bad)
		printf("  first bad handler observation: %s\n", bad_what);
	CHECK_EQ(kp_nmissed_bad, 0);
	CHECK_EQ(rp_nmissed_bad, 0);
	CHECK(nr_register_calls >= NR_REGISTERS);
	CHECK(nr_pre > 0 && nr_post > 0 && nr_entry > 0 && nr_ret > 0);

	code_unchanged();
	n = pk_show_probes(buf, sizeof(buf));
	CHECK_EQ(n, 0);
	if (n)
		printf("  still listed:\n%s", buf);
	/* With everything gone the functions run as if never probed. */
	for (i = 0; i < NR_TARGETS; i++)
		CHECK_EQ(targets[i].fn(CAL_A + 1, CAL_B + 1), targets[i].ref(CAL_A + 1, CAL_B + 1));
}

int main(void)
{
	pthread_t wd;
	int i;

	pthread_create(&wd, NULL, watchdog_main, NULL);
	RUN(test_setup);
	current_case = "test_shared_entry";
	RUN(test_shared_entry);
	current_case = "test_churn";
	RUN(test_churn);
	for (i = 0; i < NR_TARGETS; i++)
		free(targets[i].orig);
	TEST_EXIT();
}
