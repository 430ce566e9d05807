// SPDX-License-Identifier: MIT
/*
 * The trace ring (src/ring): round trips with wrap-around, many producer
 * threads against a live consumer with exact accounting (consumed + lost ==
 * produced, per producer and per event), producers in signal handlers, a
 * full ring that must not slow producers down, a producer in another process
 * (the real set-up: the test re-executes itself as the child), corrupt
 * headers on both sides, and reservations that are discarded or abandoned.
 *
 * Threads never use CHECK (the harness's flags are not thread-safe): they
 * count their own errors, which the main thread checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pk_test.h"
#include "ring/ring.h"

#define NR_PRODUCERS 4
#define MT_RECORDS   200000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* ---- self-checking records: stream, sequence number, checksum ---- */

struct trec {
	uint32_t stream;
	uint32_t len; /* the whole payload, this header included */
	uint64_t seq;
	uint64_t sum;
	unsigned char bytes[];
};

static size_t trec_len(unsigned int stream, uint64_t seq, unsigned int spread)
{
	return sizeof(struct trec) + mix((uint64_t)stream << 40 ^ seq) % spread;
}

static uint64_t trec_sum(const struct trec *t)
{
	uint64_t s = mix(t->stream ^ (uint64_t)t->len << 32) ^ mix(t->seq);
	size_t i;

	for (i = 0; i < t->len - sizeof(*t); i++)
		s = s * 31 + t->bytes[i];
	return s;
}

static void trec_fill(void *data, size_t len, unsigned int stream, uint64_t seq)
{
	struct trec *t = data;
	uint64_t x = mix(seq * 7 + stream);
	size_t i;

	t->stream = stream;
	t->len = len;
	t->seq = seq;
	for (i = 0; i < len - sizeof(*t); i++)
		t->bytes[i] = (unsigned char)(x >> (i % 8 * 8)) ^ (unsigned char)i;
	t->sum = trec_sum(t);
}

#define MAX_STREAMS 8

/* What a consumer of trecs has seen, per stream. */
struct tcheck {
	uint64_t count[MAX_STREAMS];
	int64_t last[MAX_STREAMS];
	uint64_t bad;	    /* torn, mislabelled or bad checksum */
	uint64_t reordered; /* a stream's sequence went backwards */
};

static void tcheck_init(struct tcheck *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < MAX_STREAMS; i++)
		c->last[i] = -1;
}

static int tcheck_cb(unsigned int event, const void *data, size_t len, void *arg)
{
	struct tcheck *c = arg;
	struct trec t;

	if (len < sizeof(t)) {
		c->bad++;
		return 0;
	}
	memcpy(&t, data, sizeof(t));
	if (t.len != len || t.stream >= MAX_STREAMS || t.stream != event ||
	    trec_sum(data) != t.sum) {
		c->bad++;
		return 0;
	}
	if ((int64_t)t.seq <= c->last[t.stream])
		c->reordered++;
	c->last[t.stream] = t.seq;
	c->count[t.stream]++;
	return 0;
}

/* A consumer thread: drains until told to stop, then drains what is left. */
struct consumer {
	struct pk_ring *r;
	struct tcheck check;
	int stop;
	int errors;
	uint64_t waits;
};

static void *consumer_thread(void *arg)
{
	struct consumer *c = arg;
	int ret;

	for (;;) {
		int stop = __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);

		ret = pk_ring_consume(c->r, tcheck_cb, &c->check, PK_RING_STALL_NEVER);
		if (ret < 0)
			c->errors++;
		if (stop)
			break;
		if (ret == 0) {
			pk_ring_wait(c->r, 20);
			c->waits++;
		}
	}
	return NULL;
}

/* ---- single thread: varied sizes, wrap-around, exact contents ---- */

struct expect {
	uint64_t seq[64];
	size_t len[64];
	unsigned int event[64];
	unsigned int head, tail;
	int bad;
	uint64_t got;
};

static unsigned char pattern(uint64_t seq, size_t i)
{
	return (unsigned char)(mix(seq) >> (i % 7 * 8)) + (unsigned char)i;
}

static int expect_cb(unsigned int event, const void *data, size_t len, void *arg)
{
	struct expect *e = arg;
	unsigned int k = e->tail++ % 64;
	const unsigned char *p = data;
	size_t i;

	if (((uintptr_t)data & 7) || event != e->event[k] || len != e->len[k])
		e->bad++;
	else
		for (i = 0; i < len; i++)
			if (p[i] != pattern(e->seq[k], i)) {
				e->bad++;
				break;
			}
	e->got++;
	return 0;
}

static void test_roundtrip(void)
{
	struct expect e = {0};
	struct pk_ring r;
	struct pk_ring_res res;
	uint64_t seq, end = 0, pads = 0, produced = 0, full = 0;
	size_t max;
	int ret;

	CHECK_EQ(pk_ring_create(&r, 4096), 0);
	max = pk_ring_max_len(&r);
	CHECK_EQ(max, 2048 - 8);
	for (seq = 0; seq < 30000; seq++) {
		uint64_t x = mix(seq);
		/* Mostly small, some near the limit, some empty. */
		size_t len = x % 16 == 0 ? max - x % 64 : x % 16 == 1 ? 0 : (x >> 8) % 300;
		unsigned int event = (x >> 20) % PK_RING_NR_EVENTS;
		unsigned int k;

		ret = pk_ring_reserve(&r, event, len, &res);
		if (ret == -ENOSPC) {
			full++;
			/* Drain and retry once: now it must fit. */
			CHECK(pk_ring_consume(&r, expect_cb, &e, 0) >= 0);
			ret = pk_ring_reserve(&r, event, len, &res);
		}
		CHECK_EQ(ret, 0);
		if (ret)
			break;
		CHECK(((uintptr_t)res.data & 7) == 0);
		if (res.pos != end)
			pads++;
		end = res.pos + 8 + ((len + 7) & ~7UL);
		for (size_t i = 0; i < len; i++)
			((unsigned char *)res.data)[i] = pattern(seq, i);
		k = e.head++ % 64;
		e.seq[k] = seq;
		e.len[k] = len;
		e.event[k] = event;
		CHECK_EQ(pk_ring_commit(&r, &res), 0);
		produced++;
		if (x % 5 == 0 || e.head - e.tail >= 60)
			CHECK(pk_ring_consume(&r, expect_cb, &e, 0) >= 0);
	}
	CHECK(pk_ring_consume(&r, expect_cb, &e, 0) >= 0);
	CHECK_EQ(e.bad, 0);
	CHECK_EQ(e.got, produced);
	CHECK_EQ(e.head, e.tail);
	CHECK(pads > 100);		   /* the padding path ran */
	CHECK(r.hdr->head > 500 * r.size); /* many laps */
	CHECK_EQ(r.hdr->head, r.hdr->tail);
	CHECK(full > 0);
	CHECK_EQ(r.hdr->lost, full);
	pk_ring_close(&r);
}

/* The callback can stop the walk; the record it refused comes again. */
static int stop_after_one_cb(unsigned int event, const void *data, size_t len, void *arg)
{
	int *calls = arg;

	(void)event, (void)data, (void)len;
	return ++*calls == 2 ? -EPIPE : 0;
}

static void test_callback_stop(void)
{
	struct pk_ring r;
	struct pk_ring_res res;
	int calls = 0;

	CHECK_EQ(pk_ring_create(&r, 4096), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(pk_ring_reserve(&r, 1, 8, &res), 0);
		CHECK_EQ(pk_ring_commit(&r, &res), 0);
	}
	CHECK_EQ(pk_ring_consume(&r, stop_after_one_cb, &calls, 0), -EPIPE);
	CHECK_EQ(calls, 2);
	CHECK_EQ(pk_ring_consume(&r, stop_after_one_cb, &calls, 0), 2);
	CHECK_EQ(calls, 4);
	CHECK_EQ(pk_ring_consume(&r, stop_after_one_cb, &calls, 0), 0);
	pk_ring_close(&r);
}

static void test_sizes(void)
{
	struct pk_ring r;
	struct pk_ring_res res;
	struct expect e = {0};
	struct pk_ring_stats st;
	size_t max;

	CHECK_EQ(pk_ring_create(&r, PK_RING_MAX_DATA + 1), -EINVAL);
	CHECK_EQ(pk_ring_create(&r, 5000), 0);
	CHECK_EQ(r.size, 8192);
	pk_ring_close(&r);
	CHECK_EQ(pk_ring_create(&r, 0), 0);
	CHECK_EQ(r.size, PK_RING_MIN_DATA);
	max = pk_ring_max_len(&r);

	/* Too big for the ring: refused, counted lost, nothing reserved. */
	CHECK_EQ(pk_ring_reserve(&r, 7, max + 1, &res), -E2BIG);
	CHECK_EQ(pk_ring_reserve(&r, 7, SIZE_MAX, &res), -E2BIG);
	CHECK_EQ(pk_ring_reserve(&r, 7, r.size, &res), -E2BIG);
	CHECK_EQ(pk_ring_lost(&r, 7), 3);
	CHECK_EQ(r.hdr->head, 0);
	/* A bad event id: refused, counted in the total only. */
	CHECK_EQ(pk_ring_reserve(&r, PK_RING_NR_EVENTS, 8, &res), -EINVAL);
	CHECK_EQ(pk_ring_lost(&r, PK_RING_NR_EVENTS), 0);
	pk_ring_get_stats(&r, &st);
	CHECK_EQ(st.lost, 4);

	/* The largest record fits wherever head stands, once the ring is empty. */
	for (int i = 0; i < 40; i++) {
		size_t small = i * 8 + 3;
		unsigned int k;

		CHECK_EQ(pk_ring_reserve(&r, 1, small, &res), 0);
		for (size_t j = 0; j < small; j++)
			((unsigned char *)res.data)[j] = pattern(i, j);
		k = e.head++ % 64;
		e.seq[k] = i, e.len[k] = small, e.event[k] = 1;
		CHECK_EQ(pk_ring_commit(&r, &res), 0);
		CHECK_EQ(pk_ring_consume(&r, expect_cb, &e, 0), 1);
		CHECK_EQ(pk_ring_reserve(&r, 2, max, &res), 0);
		for (size_t j = 0; j < max; j++)
			((unsigned char *)res.data)[j] = pattern(1000 + i, j);
		k = e.head++ % 64;
		e.seq[k] = 1000 + i, e.len[k] = max, e.event[k] = 2;
		CHECK_EQ(pk_ring_commit(&r, &res), 0);
		CHECK_EQ(pk_ring_consume(&r, expect_cb, &e, 0), 1);
	}
	CHECK_EQ(e.bad, 0);
	CHECK_EQ(e.got, 80);
	CHECK_EQ(pk_ring_lost(&r, 2), 0);
	pk_ring_close(&r);
}

/* ---- many producer threads, one consumer thread ---- */

struct producer {
	struct pk_ring *r;
	unsigned int stream;
	uint64_t n; /* records to write; or, with stop, written until stop is set */
	int *stop;
	int yield; /* on a full ring: as a real program, go on with something else */
	unsigned int spread;
	uint64_t lost;
	uint64_t errors;
	uint64_t ns;
};

static void *producer_thread(void *arg)
{
	struct producer *p = arg;
	struct pk_ring_res res;
	uint64_t seq, t0 = now_ns();

	for (seq = 0; seq < p->n; seq++) {
		size_t len = trec_len(p->stream, seq, p->spread);
		int ret;

		if (p->stop && __atomic_load_n(p->stop, __ATOMIC_ACQUIRE))
			break;
		ret = pk_ring_reserve(p->r, p->stream, len, &res);
		if (ret == -ENOSPC) {
			p->lost++;
			if (p->yield)
				sched_yield();
			continue;
		}
		if (ret) {
			p->errors++;
			continue;
		}
		trec_fill(res.data, len, p->stream, seq);
		if (pk_ring_commit(p->r, &res))
			p->errors++;
	}
	p->n = seq;
	p->ns = now_ns() - t0;
	return NULL;
}

static void check_accounting(struct pk_ring *r, const struct producer *p, int np,
			     const struct tcheck *c)
{
	struct pk_ring_stats st;
	uint64_t lost = 0, consumed = 0;

	for (int i = 0; i < np; i++) {
		CHECK_EQ(p[i].errors, 0);
		CHECK_EQ(c->count[p[i].stream] + p[i].lost, p[i].n);
		CHECK_EQ(pk_ring_lost(r, p[i].stream), p[i].lost);
		lost += p[i].lost;
		consumed += c->count[p[i].stream];
	}
	CHECK_EQ(c->bad, 0);
	CHECK_EQ(c->reordered, 0);
	pk_ring_get_stats(r, &st);
	CHECK_EQ(st.lost, lost);
	CHECK_EQ(st.records, consumed);
	CHECK_EQ(st.abandoned, 0);
}

static void test_threads(void)
{
	struct producer p[NR_PRODUCERS];
	pthread_t pt[NR_PRODUCERS], ct;
	struct consumer c = {0};
	struct pk_ring r;
	uint64_t lost = 0;

	CHECK_EQ(pk_ring_create(&r, 64 << 10), 0);
	CHECK_EQ(pk_ring_set_watermark(&r, 16 << 10), 0);
	c.r = &r;
	tcheck_init(&c.check);
	pthread_create(&ct, NULL, consumer_thread, &c);
	for (int i = 0; i < NR_PRODUCERS; i++) {
		p[i] = (struct producer){
		    .r = &r, .stream = i, .n = MT_RECORDS, .yield = 1, .spread = 96};
		pthread_create(&pt[i], NULL, producer_thread, &p[i]);
	}
	for (int i = 0; i < NR_PRODUCERS; i++) {
		pthread_join(pt[i], NULL);
		lost += p[i].lost;
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(ct, NULL);
	CHECK_EQ(c.errors, 0);
	check_accounting(&r, p, NR_PRODUCERS, &c.check);
	CHECK_EQ(r.hdr->head, r.hdr->tail);
	printf("  %d x %d records: %llu lost, %llu waits, %llu wakeups\n", NR_PRODUCERS, MT_RECORDS,
	       (unsigned long long)lost, (unsigned long long)c.waits,
	       (unsigned long long)r.hdr->wakeups);
	pk_ring_close(&r);
}

/* ---- producers in signal handlers, nested inside their own records ---- */

static struct pk_ring *sig_ring;
static __thread unsigned int sig_stream;
static __thread uint64_t sig_seq, sig_lost, sig_errors;

static void sig_produce(int sig)
{
	struct pk_ring_res res;
	size_t len = trec_len(sig_stream, sig_seq, 64);
	int ret, saved = errno;

	(void)sig;
	ret = pk_ring_reserve(sig_ring, sig_stream, len, &res);
	if (ret == -ENOSPC)
		sig_lost++;
	else if (ret)
		sig_errors++;
	else {
		trec_fill(res.data, len, sig_stream, sig_seq);
		if (pk_ring_commit(sig_ring, &res))
			sig_errors++;
	}
	sig_seq++;
	errno = saved;
}

struct sig_producer {
	struct producer p;
	int ready;
	uint64_t handled, lost, errors; /* of the handler's stream */
};

static void *sig_producer_thread(void *arg)
{
	struct sig_producer *sp = arg;

	sigset_t set;

	sig_stream = sp->p.stream + NR_PRODUCERS;
	__atomic_store_n(&sp->ready, 1, __ATOMIC_RELEASE);
	producer_thread(&sp->p);
	/* No handler may run after the counts are taken. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sp->handled = sig_seq;
	sp->lost = sig_lost;
	sp->errors = sig_errors;
	return NULL;
}

static void test_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = sig_produce}, old;
	struct sig_producer sp[2];
	pthread_t pt[2], ct;
	struct consumer c = {0};
	struct producer all[4];
	struct pk_ring r;
	struct pk_ring_res res;
	uint64_t kicks = 0;
	int stop = 0;

	CHECK_EQ(pk_ring_create(&r, 32 << 10), 0);
	sig_ring = &r;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, &old);

	/* Deterministic: a handler's record inside this thread's open one. */
	sig_stream = 1;
	sig_seq = 0;
	CHECK_EQ(pk_ring_reserve(&r, 0, sizeof(struct trec), &res), 0);
	raise(SIGUSR1);
	c.r = &r;
	tcheck_init(&c.check);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c.check, PK_RING_STALL_NEVER), 0);
	trec_fill(res.data, sizeof(struct trec), 0, 0);
	CHECK_EQ(pk_ring_commit(&r, &res), 0);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c.check, PK_RING_STALL_NEVER), 2);
	CHECK_EQ(c.check.count[0], 1);
	CHECK_EQ(c.check.count[1], 1);
	CHECK_EQ(c.check.bad, 0);
	CHECK_EQ(sig_errors, 0);

	/* Asynchronous: signals land anywhere in the producers' loops. */
	tcheck_init(&c.check);
	r.records = 0;
	pthread_create(&ct, NULL, consumer_thread, &c);
	for (int i = 0; i < 2; i++) {
		sp[i] = (struct sig_producer){.p = {.r = &r,
						    .stream = i,
						    .n = 300000,
						    .stop = &stop,
						    .yield = 1,
						    .spread = 64}};
		pthread_create(&pt[i], NULL, sig_producer_thread, &sp[i]);
	}
	for (int i = 0; i < 2; i++)
		while (!__atomic_load_n(&sp[i].ready, __ATOMIC_ACQUIRE))
			sched_yield();
	for (int k = 0; k < 3000; k++) {
		for (int i = 0; i < 2; i++)
			kicks += !pthread_kill(pt[i], SIGUSR1);
		usleep(20);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(pt[i], NULL);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(ct, NULL);
	sigaction(SIGUSR1, &old, NULL);

	for (int i = 0; i < 2; i++) {
		all[i] = sp[i].p;
		all[2 + i] = (struct producer){.stream = NR_PRODUCERS + i,
					       .n = sp[i].handled,
					       .lost = sp[i].lost,
					       .errors = sp[i].errors};
	}
	CHECK_EQ(c.errors, 0);
	check_accounting(&r, all, 4, &c.check);
	printf("  %llu signals sent; records: %llu + %llu from loops, %llu + %llu from handlers\n",
	       (unsigned long long)kicks, (unsigned long long)all[0].n,
	       (unsigned long long)all[1].n, (unsigned long long)sp[0].handled,
	       (unsigned long long)sp[1].handled);
	pk_ring_close(&r);
}

/* ---- a full ring with nobody consuming ---- */

static void test_full(void)
{
	struct producer p[NR_PRODUCERS];
	pthread_t pt[NR_PRODUCERS];
	struct tcheck c;
	struct pk_ring r;
	uint64_t committed = 0, t0;

	CHECK_EQ(pk_ring_create(&r, 4096), 0);
	t0 = now_ns();
	for (int i = 0; i < NR_PRODUCERS; i++) {
		p[i] = (struct producer){.r = &r, .stream = i, .n = 50000, .spread = 64};
		pthread_create(&pt[i], NULL, producer_thread, &p[i]);
	}
	for (int i = 0; i < NR_PRODUCERS; i++)
		pthread_join(pt[i], NULL);
	/* 200,000 attempts on a full ring: microseconds each at worst. */
	CHECK(now_ns() - t0 < 3000000000ULL);
	for (int i = 0; i < NR_PRODUCERS; i++) {
		CHECK(p[i].lost > 0);
		committed += p[i].n - p[i].lost;
	}
	CHECK(committed > 0 && committed * sizeof(struct trec) <= r.size);
	tcheck_init(&c);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), committed);
	check_accounting(&r, p, NR_PRODUCERS, &c);
	for (int i = 1; i < NR_PRODUCERS; i++)
		if (p[i].ns > p[0].ns)
			p[0].ns = p[i].ns;
	printf("  %llu committed, slowest producer %llu ns per attempt\n",
	       (unsigned long long)committed, (unsigned long long)(p[0].ns / p[0].n));
	pk_ring_close(&r);
}

/* ---- the producer in another process ---- */

#define CHILD_RECORDS 100000
#define CHILD_EVENT   1
#define DEAD_EVENT    2

static int child_main(int fd, long n)
{
	struct pk_ring r;
	struct pk_ring_res res;
	uint64_t head, tail;
	int errors = 0;

	if (pk_ring_attach(&r, fd))
		return 2;
	close(fd);
	for (long seq = 0; seq < n; seq++) {
		size_t len = trec_len(CHILD_EVENT, seq, 200);
		int ret = pk_ring_reserve(&r, CHILD_EVENT, len, &res);

		if (ret == -ENOSPC) {
			/* Now and then, let the parent catch up (not needed). */
			if (seq % 64 == 0)
				sched_yield();
			continue;
		}
		if (ret) {
			errors++;
			continue;
		}
		trec_fill(res.data, len, CHILD_EVENT, seq);
		errors += pk_ring_commit(&r, &res) != 0;
	}
	/* Let the parent make room (failed reservations would count lost). */
	do {
		sched_yield();
		tail = __atomic_load_n(&r.hdr->tail, __ATOMIC_ACQUIRE);
		head = __atomic_load_n(&r.hdr->head, __ATOMIC_RELAXED);
	} while (head - tail > r.size / 4);
	/* Die in the middle of a record... */
	errors += pk_ring_reserve(&r, DEAD_EVENT, 100, &res) != 0;
	memset(res.data, 0xa5, 50);
	/*
	 * ...and, as if between moving head and writing the header(s), in
	 * another: 64 bytes, and the padding before them if they wrap.
	 */
	head = __atomic_load_n(&r.hdr->head, __ATOMIC_RELAXED);
	if ((head & r.mask) + 64 > r.size)
		head += r.size - (head & r.mask);
	__atomic_store_n(&r.hdr->head, head + 64, __ATOMIC_SEQ_CST);
	_exit(errors ? 1 : 0);
}

static void test_other_process(void)
{
	struct tcheck c;
	struct pk_ring r;
	struct pk_ring_stats st;
	char fdarg[16], narg[16];
	int status, ret, errors = 0;
	pid_t pid;

	CHECK_EQ(pk_ring_create(&r, 64 << 10), 0);
	snprintf(fdarg, sizeof(fdarg), "%d", pk_ring_fd(&r));
	snprintf(narg, sizeof(narg), "%d", CHILD_RECORDS);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* What the CLI does: the fd survives exec, the agent maps it. */
		fcntl(pk_ring_fd(&r), F_SETFD, 0);
		execl("/proc/self/exe", "test_ring", "--ring-child", fdarg, narg, (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0);
	tcheck_init(&c);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		ret = pk_ring_consume(&r, tcheck_cb, &c, PK_RING_STALL_NEVER);
		errors += ret < 0;
		if (ret == 0)
			pk_ring_wait(&r, 10);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The producer is gone: nothing it left open will ever be committed. */
	ret = pk_ring_consume(&r, tcheck_cb, &c, 0);
	CHECK(ret >= 0);
	CHECK_EQ(errors, 0);
	CHECK_EQ(c.bad, 0);
	CHECK_EQ(c.reordered, 0);
	CHECK_EQ(c.count[CHILD_EVENT] + pk_ring_lost(&r, CHILD_EVENT), CHILD_RECORDS);
	CHECK_EQ(pk_ring_lost(&r, DEAD_EVENT), 1);
	pk_ring_get_stats(&r, &st);
	CHECK_EQ(st.abandoned, 2);
	CHECK_EQ(st.lost, pk_ring_lost(&r, CHILD_EVENT) + 2);
	CHECK_EQ(r.hdr->head, r.hdr->tail);
	printf("  child: %llu consumed, %llu lost\n", (unsigned long long)c.count[CHILD_EVENT],
	       (unsigned long long)pk_ring_lost(&r, CHILD_EVENT));
	pk_ring_close(&r);
}

/* ---- corrupt headers: attach refuses, producers stay inside ---- */

static void test_attach_corrupt(void)
{
	struct pk_ring r, p;
	struct pk_ring_hdr *h;
	uint64_t saved[8];
	int fd, pfd[2];

	CHECK_EQ(pk_ring_create(&r, 8192), 0);
	h = r.hdr;
	fd = pk_ring_fd(&r);
	memcpy(saved, h, 64);

#define CORRUPT(field, value, err)                                                                 \
	do {                                                                                       \
		h->field = (value);                                                                \
		CHECK_EQ(pk_ring_attach(&p, fd), err);                                             \
		memcpy(h, saved, 64);                                                              \
	} while (0)
	CORRUPT(magic, PK_RING_MAGIC ^ 1, -EBADMSG);
	CORRUPT(version, PK_RING_VERSION + 1, -EPROTONOSUPPORT);
	CORRUPT(nr_events, 100000, -EBADMSG);
	CORRUPT(hdr_size, 4096, -EBADMSG);
	CORRUPT(hdr_size, 0, -EBADMSG);
	CORRUPT(data_size, 0, -EBADMSG);
	CORRUPT(data_size, 3 * 4096, -EBADMSG);	  /* not a power of two */
	CORRUPT(data_size, 16384, -EBADMSG);	  /* larger than the file */
	CORRUPT(data_size, 4096, -EBADMSG);	  /* smaller than the file */
	CORRUPT(data_size, 1ULL << 62, -EBADMSG); /* overflows */
	CORRUPT(data_size, UINT64_MAX, -EBADMSG);
#undef CORRUPT
	CHECK_EQ(pk_ring_attach(&p, -1), -EBADF);
	CHECK_EQ(pipe(pfd), 0);
	CHECK_EQ(pk_ring_attach(&p, pfd[0]), -EBADMSG);
	close(pfd[0]);
	close(pfd[1]);

	/* A good header in a file that could shrink under the producer. */
	fd = memfd_create("unsealed", MFD_CLOEXEC);
	CHECK_EQ(ftruncate(fd, PK_RING_HDR_SIZE + 8192), 0);
	CHECK_EQ(pwrite(fd, h, 64, 0), 64);
	CHECK_EQ(pk_ring_attach(&p, fd), -EBADMSG);
	close(fd);
	/* Too small to hold a header. */
	fd = memfd_create("small", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK_EQ(ftruncate(fd, 4096), 0);
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
	CHECK_EQ(pk_ring_attach(&p, fd), -EBADMSG);
	close(fd);

	CHECK_EQ(pk_ring_attach(&p, pk_ring_fd(&r)), 0);
	CHECK_EQ(p.size, 8192);
	CHECK(p.data != r.data); /* a mapping of its own */
	CHECK_EQ(pk_ring_fd(&p), -EBADF);
	CHECK_EQ(pk_ring_consume(&p, tcheck_cb, NULL, 0), -EPERM);
	CHECK_EQ(pk_ring_wait(&p, 0), -EPERM);

	/* Sizes changed after attach are not looked at again. */
	h->data_size = 1ULL << 40;
	CHECK_EQ(p.size, 8192);
	pk_ring_close(&p);
	pk_ring_close(&r);
}

static void test_wild_counters(void)
{
	static const uint64_t heads[] = {
	    0,		8,	   8192 - 8, 8192 - 3, 0x123456789abcdef1ULL, UINT64_MAX - 7,
	    UINT64_MAX, 1ULL << 63};
	static const int64_t gaps[] = {0, 8, 100, 8192 - 16, 8192, 1 << 20, -8, -4096, INT64_MIN};
	struct pk_ring r, p;
	struct pk_ring_res res;
	struct tcheck c;
	uint64_t t0 = now_ns();
	int out = 0, ret;

	CHECK_EQ(pk_ring_create(&r, 8192), 0);
	CHECK_EQ(pk_ring_attach(&p, pk_ring_fd(&r)), 0);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		for (size_t j = 0; j < sizeof(gaps) / sizeof(gaps[0]); j++)
			for (size_t len = 0; len <= pk_ring_max_len(&p); len += 509) {
				__atomic_store_n(&r.hdr->head, heads[i], __ATOMIC_RELAXED);
				__atomic_store_n(&r.hdr->tail, heads[i] - gaps[j],
						 __ATOMIC_RELAXED);
				ret = pk_ring_reserve(&p, 3, len, &res);
				if (ret) {
					out += ret != -ENOSPC && ret != -EAGAIN;
					continue;
				}
				out += (unsigned char *)res.data < p.data + 8 ||
				       (unsigned char *)res.data + ((len + 7) & ~7UL) >
					   p.data + p.size;
				memset(res.data, 0x5a, len);
				pk_ring_commit(&p, &res);
			}
	CHECK_EQ(out, 0);
	/* Bounded: a head that looks behind the tail does not trap anyone. */
	CHECK(now_ns() - t0 < 2000000000ULL);
	CHECK_EQ(memcmp(&r.hdr->magic, &(uint64_t){PK_RING_MAGIC}, 8), 0);
	CHECK_EQ(r.hdr->data_size, 8192);

	/* The consumer, on its side, refuses a head too far from its tail. */
	tcheck_init(&c);
	__atomic_store_n(&r.hdr->head, r.tail + 3 * r.size, __ATOMIC_RELAXED);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), -EBADMSG);
	__atomic_store_n(&r.hdr->head, r.tail - 8, __ATOMIC_RELAXED);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), -EBADMSG);
	__atomic_store_n(&r.hdr->head, r.tail + 13, __ATOMIC_RELAXED);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), -EBADMSG);
	CHECK_EQ(pk_ring_wait(&r, 1000), 0); /* for consume to report it */
	pk_ring_close(&p);
	pk_ring_close(&r);
}

/* Record headers that no producer writes: the consumer stops, reads nothing past. */
static void test_corrupt_records(void)
{
	static const struct {
		uint64_t word, head;
	} bad[] = {
	    {7 | 8 << 3, 64},		      /* unknown state */
	    {2 | (uint64_t)100 << 3, 64},     /* longer than what head covers */
	    {2 | (uint64_t)4090 << 3, 8192},  /* longer than a record may be */
	    {2 | (uint64_t)8000 << 3, 8192},  /* past the end of the data area */
	    {4 | 8 << 3, 64},		      /* padding that does not reach the end */
	};
	struct pk_ring r;
	struct tcheck c;

	tcheck_init(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(pk_ring_create(&r, 8192), 0);
		((uint64_t *)r.data)[0] = bad[i].word;
		r.hdr->head = bad[i].head;
		CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), -EBADMSG);
		CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), -EBADMSG);
		CHECK_EQ(r.tail, 0);
		pk_ring_close(&r);
	}
	/* Stale bytes from another lap are not a header: waited for, then skipped. */
	CHECK_EQ(pk_ring_create(&r, 8192), 0);
	((uint64_t *)r.data)[0] = 2 | 8 << 3 | 5ULL << 48;
	r.hdr->head = 16;
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, PK_RING_STALL_NEVER), 0);
	CHECK_EQ(pk_ring_consume(&r, tcheck_cb, &c, 0), 0);
	CHECK_EQ(r.tail, 16);
	CHECK_EQ(r.abandoned, 1);
	CHECK_EQ(c.count[0] + c.bad, 0);
	pk_ring_close(&r);
}

/* ---- discarded and abandoned reservations ---- */

static int count_cb(unsigned int event, const void *data, size_t len, void *arg)
{
	uint64_t *events = arg;

	(void)data, (void)len;
	events[event]++;
	return 0;
}

static void test_discard_abandon(void)
{
	struct pk_ring_res a, b, d;
	struct pk_ring_stats st;
	uint64_t ev[8] = {0};
	struct pk_ring r;

	CHECK_EQ(pk_ring_create(&r, 4096), 0);

	/* Discarded: skipped at once, not lost. */
	CHECK_EQ(pk_ring_reserve(&r, 1, 40, &a), 0);
	CHECK_EQ(pk_ring_reserve(&r, 2, 40, &b), 0);
	CHECK_EQ(pk_ring_commit(&r, &b), 0);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, PK_RING_STALL_NEVER), 0);
	CHECK_EQ(pk_ring_discard(&r, &a), 0);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, PK_RING_STALL_NEVER), 1);
	CHECK_EQ(ev[1], 0);
	CHECK_EQ(ev[2], 1);
	pk_ring_get_stats(&r, &st);
	CHECK_EQ(st.discarded, 1);
	CHECK_EQ(st.lost, 0);

	/* Abandoned with records behind it: given up after the timeout. */
	CHECK_EQ(pk_ring_reserve(&r, 3, 100, &a), 0);
	memset(a.data, 0xee, 100);
	CHECK_EQ(pk_ring_reserve(&r, 4, 8, &b), 0);
	CHECK_EQ(pk_ring_commit(&r, &b), 0);
	CHECK_EQ(pk_ring_reserve(&r, 4, 8, &b), 0);
	CHECK_EQ(pk_ring_commit(&r, &b), 0);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 30000000), 0);
	sleep_ms(10);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 30000000), 0);
	sleep_ms(30);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 30000000), 2);
	CHECK_EQ(ev[4], 2);
	CHECK_EQ(pk_ring_lost(&r, 3), 1);
	/* Its producer was only late: the commit fails, nothing counted twice. */
	CHECK_EQ(pk_ring_commit(&r, &a), -ETIMEDOUT);
	CHECK_EQ(pk_ring_discard(&r, &a), -ETIMEDOUT);
	CHECK_EQ(pk_ring_lost(&r, 3), 1);
	CHECK_EQ(ev[3], 0);

	/* Uncommitted with nothing behind it: nobody is held up, no guessing. */
	CHECK_EQ(pk_ring_reserve(&r, 5, 8, &d), 0);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 0);
	sleep_ms(5);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 0);
	CHECK_EQ(pk_ring_commit(&r, &d), 0);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 1);
	CHECK_EQ(ev[5], 1);

	/* A reservation whose header never came (the producer died right after
	 * moving head): skipped, as one lost record of no known event. */
	__atomic_fetch_add(&r.hdr->head, 48, __ATOMIC_SEQ_CST);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 0);
	sleep_ms(5);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 0); /* nothing behind it */
	CHECK_EQ(pk_ring_reserve(&r, 6, 24, &b), 0);
	CHECK_EQ(pk_ring_commit(&r, &b), 0);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 1); /* it waited long enough */
	CHECK_EQ(ev[6], 1);
	pk_ring_get_stats(&r, &st);
	CHECK_EQ(st.abandoned, 2);
	CHECK_EQ(st.lost, 2);

	/* Once the producer process is gone (timeout 0): all given up at once. */
	CHECK_EQ(pk_ring_reserve(&r, 7, 16, &a), 0);
	__atomic_fetch_add(&r.hdr->head, 32, __ATOMIC_SEQ_CST);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 0), 0);
	CHECK_EQ(r.tail, r.hdr->head);
	CHECK_EQ(pk_ring_lost(&r, 7), 1);
	pk_ring_get_stats(&r, &st);
	CHECK_EQ(st.abandoned, 4);
	CHECK_EQ(st.lost, 4);

	/* And the ring still works, across the wrap too. */
	for (int i = 0; i < 500; i++) {
		CHECK_EQ(pk_ring_reserve(&r, 1, 100, &a), 0);
		CHECK_EQ(pk_ring_commit(&r, &a), 0);
		CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 1000000), 1);
	}
	CHECK_EQ(ev[1], 500);
	pk_ring_close(&r);
}

/* ---- sleeping and waking ---- */

static void *late_commit_thread(void *arg)
{
	struct pk_ring *r = arg;
	struct pk_ring_res res;

	sleep_ms(30);
	if (!pk_ring_reserve(r, 1, 8, &res))
		pk_ring_commit(r, &res);
	return NULL;
}

static struct pk_ring_res late_res;

static void *late_open_commit_thread(void *arg)
{
	sleep_ms(30);
	pk_ring_commit(arg, &late_res);
	return NULL;
}

static void test_wait(void)
{
	struct pk_ring_res res;
	uint64_t ev[2] = {0}, t0, dt;
	struct pk_ring r;
	pthread_t t;

	CHECK_EQ(pk_ring_create(&r, 4096), 0);
	t0 = now_ns();
	CHECK_EQ(pk_ring_wait(&r, 30), -ETIMEDOUT);
	dt = now_ns() - t0;
	CHECK(dt >= 25000000 && dt < 2000000000);
	CHECK_EQ(r.hdr->waiting, 0);

	/* Nobody asleep: commits make no system call. */
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ(pk_ring_reserve(&r, 1, 8, &res), 0);
		CHECK_EQ(pk_ring_commit(&r, &res), 0);
		if (i % 100 == 99)
			CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 0), 100);
	}
	CHECK_EQ(r.hdr->wakeups, 0);

	/* Something there already: no sleep. */
	CHECK_EQ(pk_ring_reserve(&r, 1, 8, &res), 0);
	CHECK_EQ(pk_ring_commit(&r, &res), 0);
	t0 = now_ns();
	CHECK_EQ(pk_ring_wait(&r, 5000), 0);
	CHECK(now_ns() - t0 < 1000000000);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 0), 1);

	/* Asleep: the next commit wakes us, long before the timeout. */
	pthread_create(&t, NULL, late_commit_thread, &r);
	t0 = now_ns();
	CHECK_EQ(pk_ring_wait(&r, 10000), 0);
	dt = now_ns() - t0;
	pthread_join(t, NULL);
	CHECK(dt < 5000000000ULL);
	CHECK_EQ(r.hdr->wakeups, 1);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 0), 1);
	CHECK_EQ(ev[1], 1002);

	/* A watermark: one small record is not worth a wake-up... */
	CHECK_EQ(pk_ring_set_watermark(&r, 512), 0);
	CHECK_EQ(pk_ring_reserve(&r, 1, 8, &res), 0);
	CHECK_EQ(pk_ring_commit(&r, &res), 0);
	CHECK_EQ(pk_ring_wait(&r, 20), -ETIMEDOUT);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 0), 1);
	/*
	 * ...but the commit that makes the tail ready wakes us, though its
	 * own record is small: the ones behind it reached the watermark.
	 */
	CHECK_EQ(pk_ring_reserve(&r, 1, 8, &late_res), 0);
	CHECK_EQ(pk_ring_reserve(&r, 1, 600, &res), 0);
	CHECK_EQ(pk_ring_commit(&r, &res), 0);
	pthread_create(&t, NULL, late_open_commit_thread, &r);
	t0 = now_ns();
	CHECK_EQ(pk_ring_wait(&r, 10000), 0);
	dt = now_ns() - t0;
	pthread_join(t, NULL);
	CHECK(dt < 5000000000ULL);
	CHECK_EQ(r.hdr->wakeups, 2);
	CHECK_EQ(pk_ring_consume(&r, count_cb, ev, 0), 2);
	CHECK_EQ(pk_ring_set_watermark(&r, SIZE_MAX), 0);
	CHECK_EQ(r.watermark, r.size / 2);
	pk_ring_close(&r);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--ring-child"))
		return child_main(atoi(argv[2]), atol(argv[3]));
	RUN(test_roundtrip);
	RUN(test_callback_stop);
	RUN(test_sizes);
	RUN(test_threads);
	RUN(test_signal_handlers);
	RUN(test_full);
	RUN(test_other_process);
	RUN(test_attach_corrupt);
	RUN(test_wild_counters);
	RUN(test_corrupt_records);
	RUN(test_discard_abandon);
	RUN(test_wait);
	TEST_EXIT();
}
