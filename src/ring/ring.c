// SPDX-License-Identifier: MIT
/*
 * The trace ring; ring.h describes the layout and the protocol.
 *
 * Orderings, in C11 terms, so that ThreadSanitizer sees them too:
 * - The consumer zeroes the space it gives back, then publishes tail with
 *   release; a producer loads tail with acquire before it reserves, so its
 *   writes come after the zeroing. Free space is therefore all zeroes, and a
 *   header word still zero means "reserved, header not written yet".
 * - Header words are stored with release and read with acquire; the commit
 *   is a compare-and-swap (release side), so a consumer that sees COMMITTED
 *   sees the payload.
 * - Sleeping and waking: the consumer stores waiting = 1 and then reads the
 *   header at its tail; a producer commits and then reads waiting. All four
 *   are seq_cst, so at least one side sees the other's write: either the
 *   consumer sees the record or the producer sees it asleep.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ring/ring.h"

enum {
	REC_NONE, /* never a valid state: a zero word is an unwritten header */
	REC_BUSY,
	REC_COMMITTED,
	REC_DISCARDED,
	REC_PAD,
	REC_SKIPPED,
};

#define REC_STATE_MASK 7ULL
#define REC_LEN_MAX    ((1U << 29) - 1)
/*
 * Each failed compare-and-swap on head means another reservation went
 * through, so this only ends a run of bad luck (or a head that someone keeps
 * scribbling over); it bounds the time a signal handler spends in here.
 */
#define RING_MAX_TRIES 1024

static uint64_t rec_word(unsigned int state, uint64_t len, unsigned int event, uint64_t lap)
{
	return state | len << 3 | (uint64_t)event << 32 | (lap & 0xffff) << 48;
}

static unsigned int rec_state(uint64_t w)
{
	return w & REC_STATE_MASK;
}

static uint32_t rec_len(uint64_t w)
{
	return (w >> 3) & REC_LEN_MAX;
}

static unsigned int rec_event(uint64_t w)
{
	return (w >> 32) & 0xffff;
}

/* Header and payload, as the record takes them in the data area. */
static uint64_t rec_size(uint64_t len)
{
	return 8 + ((len + 7) & ~7ULL);
}

static uint64_t ring_lap(const struct pk_ring *r, uint64_t pos)
{
	return pos >> r->shift;
}

/* The only way either side turns a position into an address. */
static uint64_t *ring_slot(const struct pk_ring *r, uint64_t pos)
{
	return (uint64_t *)(r->data + (pos & r->mask & ~7ULL));
}

static void ring_count_lost(struct pk_ring_hdr *h, unsigned int event)
{
	__atomic_fetch_add(&h->lost, 1, __ATOMIC_RELAXED);
	if (event < PK_RING_NR_EVENTS)
		__atomic_fetch_add(&h->lost_by_event[event], 1, __ATOMIC_RELAXED);
}

/* Sizes both sides derive from data_size: one place, so they agree. */
static void ring_setup(struct pk_ring *r, void *map, uint64_t data_size)
{
	memset(r, 0, sizeof(*r));
	r->hdr = map;
	r->data = (unsigned char *)map + PK_RING_HDR_SIZE;
	r->size = data_size;
	r->mask = data_size - 1;
	r->shift = __builtin_ctzll(data_size);
	r->max_len = data_size / 2 - 8;
	r->map_len = PK_RING_HDR_SIZE + data_size;
	r->fd = -1;
}

int pk_ring_create(struct pk_ring *r, size_t data_size)
{
	struct pk_ring_hdr *h;
	uint64_t size = PK_RING_MIN_DATA;
	void *map;
	int fd, err;

	if (data_size > PK_RING_MAX_DATA)
		return -EINVAL;
	while (size < data_size)
		size <<= 1;
	fd = memfd_create("probekit-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return errno == ENOMEM ? -ENOMEM : -EMFILE;
	if (ftruncate(fd, PK_RING_HDR_SIZE + size) < 0) {
		err = -ENOMEM;
		goto out_close;
	}
	/*
	 * The traced program holds the fd too: if it could shrink the file,
	 * our own accesses to the mapping would raise SIGBUS.
	 */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		err = -ENOMEM;
		goto out_close;
	}
	map = mmap(NULL, PK_RING_HDR_SIZE + size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		   fd, 0);
	if (map == MAP_FAILED) {
		err = -ENOMEM;
		goto out_close;
	}
	ring_setup(r, map, size);
	r->fd = fd;
	r->consumer = 1;
	h = r->hdr;
	h->version = PK_RING_VERSION;
	h->nr_events = PK_RING_NR_EVENTS;
	h->hdr_size = PK_RING_HDR_SIZE;
	h->data_size = size;
	__atomic_store_n(&h->magic, PK_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;

out_close:
	close(fd);
	return err;
}

int pk_ring_attach(struct pk_ring *r, int fd)
{
	uint64_t magic, hdr_size, data_size;
	uint32_t version, nr_events;
	struct pk_ring_hdr *h;
	struct stat st;
	int seals, err;
	void *map;

	if (fstat(fd, &st) < 0)
		return -EBADF;
	if (!S_ISREG(st.st_mode) || st.st_size < PK_RING_HDR_SIZE + PK_RING_MIN_DATA ||
	    (uint64_t)st.st_size > PK_RING_HDR_SIZE + PK_RING_MAX_DATA)
		return -EBADMSG;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EBADMSG;
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	/* Each field read once: the other side may be changing them under us. */
	h = map;
	magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	version = __atomic_load_n(&h->version, __ATOMIC_RELAXED);
	nr_events = __atomic_load_n(&h->nr_events, __ATOMIC_RELAXED);
	hdr_size = __atomic_load_n(&h->hdr_size, __ATOMIC_RELAXED);
	data_size = __atomic_load_n(&h->data_size, __ATOMIC_RELAXED);
	err = -EBADMSG;
	if (magic != PK_RING_MAGIC)
		goto out_unmap;
	if (version != PK_RING_VERSION) {
		err = -EPROTONOSUPPORT;
		goto out_unmap;
	}
	if (nr_events != PK_RING_NR_EVENTS || hdr_size != PK_RING_HDR_SIZE ||
	    data_size < PK_RING_MIN_DATA || data_size > PK_RING_MAX_DATA ||
	    (data_size & (data_size - 1)) || hdr_size + data_size != (uint64_t)st.st_size)
		goto out_unmap;
	ring_setup(r, map, data_size);
	return 0;

out_unmap:
	munmap(map, st.st_size);
	return err;
}

void pk_ring_close(struct pk_ring *r)
{
	if (r->hdr)
		munmap(r->hdr, r->map_len);
	if (r->consumer && r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int pk_ring_fd(const struct pk_ring *r)
{
	return r->consumer ? r->fd : -EBADF;
}

size_t pk_ring_max_len(const struct pk_ring *r)
{
	return r->max_len;
}

int pk_ring_reserve(struct pk_ring *r, unsigned int event, size_t len, struct pk_ring_res *res)
{
	struct pk_ring_hdr *h = r->hdr;
	uint64_t head, tail, need, pad, idx, word;
	unsigned int tries;

	if (event >= PK_RING_NR_EVENTS) {
		ring_count_lost(h, event);
		return -EINVAL;
	}
	if (len > r->max_len) {
		ring_count_lost(h, event);
		return -E2BIG;
	}
	need = rec_size(len);
	head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
	for (tries = 0;; tries++) {
		if (tries == RING_MAX_TRIES) {
			ring_count_lost(h, event);
			return -EAGAIN;
		}
		tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
		if ((int64_t)(head - tail) < 0) {
			/* Our head is older than the tail we just read. */
			head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
			continue;
		}
		idx = head & r->mask;
		pad = idx + need > r->size ? r->size - idx : 0;
		/* need <= size / 2 and pad < need: no underflow on the right. */
		if (head - tail > r->size - need - pad) {
			ring_count_lost(h, event);
			return -ENOSPC;
		}
		/*
		 * seq_cst (a locked instruction anyway): a consumer that reads
		 * head before this and goes to sleep is then seen by our wake
		 * check after the commit.
		 */
		if (__atomic_compare_exchange_n(&h->head, &head, head + pad + need, 1,
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			break;
	}
	/*
	 * Headers first, at once: until one is written, the consumer cannot
	 * tell how long this reservation is (see ring.h for when it gives up).
	 */
	if (pad)
		__atomic_store_n(ring_slot(r, head),
				 rec_word(REC_PAD, pad - 8, 0, ring_lap(r, head)),
				 __ATOMIC_RELEASE);
	head += pad;
	word = rec_word(REC_BUSY, len, event, ring_lap(r, head));
	__atomic_store_n(ring_slot(r, head), word, __ATOMIC_RELEASE);
	res->data = ring_slot(r, head) + 1;
	res->pos = head;
	res->word = word;
	return 0;
}

static void ring_wake(struct pk_ring_hdr *h)
{
	uint64_t watermark, head;

	if (!__atomic_load_n(&h->waiting, __ATOMIC_SEQ_CST))
		return;
	/* Published before waiting (release), so ours is the current one. */
	watermark = __atomic_load_n(&h->watermark, __ATOMIC_RELAXED);
	/*
	 * Head, not the end of our own record: the record at the tail may
	 * commit last of all, and its end alone would miss the watermark
	 * that the records behind it reached. A stale tail only wakes early.
	 */
	head = __atomic_load_n(&h->head, __ATOMIC_SEQ_CST);
	if (watermark && head - __atomic_load_n(&h->tail, __ATOMIC_RELAXED) < watermark)
		return;
	/* One waker per sleep, not one system call per commit. */
	if (!__atomic_exchange_n(&h->waiting, 0, __ATOMIC_ACQ_REL))
		return;
	__atomic_fetch_add(&h->seq, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&h->wakeups, 1, __ATOMIC_RELAXED);
	/* Not FUTEX_PRIVATE: the consumer is another process. */
	pk_syscall6(SYS_futex, (long)&h->seq, FUTEX_WAKE, 1, 0, 0, 0);
}

static int ring_finish(struct pk_ring *r, const struct pk_ring_res *res, unsigned int state)
{
	uint64_t want = res->word;

	/* Fails only if the consumer marked it SKIPPED, or reused it since. */
	if (!__atomic_compare_exchange_n(ring_slot(r, res->pos), &want,
					 (res->word & ~REC_STATE_MASK) | state, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return -ETIMEDOUT;
	ring_wake(r->hdr);
	return 0;
}

int pk_ring_commit(struct pk_ring *r, const struct pk_ring_res *res)
{
	return ring_finish(r, res, REC_COMMITTED);
}

int pk_ring_discard(struct pk_ring *r, const struct pk_ring_res *res)
{
	return ring_finish(r, res, REC_DISCARDED);
}

/*
 * What the word at @pos says, given that everything up to @head has been
 * reserved: the record's size, 0 if no header has been written there in
 * this lap yet, -EBADMSG if it is a header that no producer writes.
 */
static int64_t ring_parse(const struct pk_ring *r, uint64_t w, uint64_t pos, uint64_t head)
{
	unsigned int state = rec_state(w);
	uint64_t idx = pos & r->mask;
	uint64_t size = rec_size(rec_len(w));

	if (!w || (w >> 48) != (ring_lap(r, pos) & 0xffff))
		return 0;
	if (state == REC_NONE || state > REC_SKIPPED || size > head - pos || idx + size > r->size)
		return -EBADMSG;
	if (state == REC_PAD) {
		if (idx + size != r->size)
			return -EBADMSG;
	} else if (rec_len(w) > r->max_len || rec_event(w) >= PK_RING_NR_EVENTS) {
		return -EBADMSG;
	}
	return size;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Has the record at @pos been in the making for @stall_ns already? */
static int ring_stall_expired(struct pk_ring *r, uint64_t pos, uint64_t stall_ns)
{
	uint64_t now;

	if (!stall_ns)
		return 1;
	if (stall_ns == PK_RING_STALL_NEVER)
		return 0;
	now = now_ns();
	if (!r->stalled || r->stall_pos != pos) {
		r->stalled = 1;
		r->stall_pos = pos;
		r->stall_since = now;
		return 0;
	}
	return now - r->stall_since >= stall_ns;
}

/*
 * The reservation at @tail has no header: its producer died between moving
 * head and writing it. It wrote nothing else either, so the bytes up to the
 * next header are the zeroes we left there. Returns the distance to the
 * next valid header, or to @head if there is none (yet).
 */
static uint64_t ring_resync(const struct pk_ring *r, uint64_t tail, uint64_t head)
{
	uint64_t pos, w;

	for (pos = tail + 8; pos < head; pos += 8) {
		w = __atomic_load_n(ring_slot(r, pos), __ATOMIC_ACQUIRE);
		if (ring_parse(r, w, pos, head) > 0)
			break;
	}
	return pos - tail;
}

/* Give back [released, to): zeroed first, see the top of the file. */
static void ring_release(struct pk_ring *r, uint64_t to)
{
	uint64_t from = r->released, n;

	while (from != to) {
		n = r->size - (from & r->mask);
		if (n > to - from)
			n = to - from;
		memset(r->data + (from & r->mask), 0, n);
		from += n;
	}
	__atomic_store_n(&r->hdr->tail, to, __ATOMIC_RELEASE);
	r->released = to;
}

/*
 * The record at @tail is not ready (@w is BUSY, or no header). Returns how
 * far to skip, 0 to stop and wait for it, or -EAGAIN if it changed under us.
 */
static int64_t ring_stalled(struct pk_ring *r, uint64_t tail, uint64_t head, uint64_t w,
			    int64_t size, uint64_t stall_ns)
{
	uint64_t skip;

	/* A record with nothing behind it holds nobody up: no need to guess. */
	if (stall_ns && (size > 0 ? head - tail == (uint64_t)size : 0))
		return 0;
	if (!ring_stall_expired(r, tail, stall_ns))
		return 0;
	if (size > 0) {
		/* Marked first, so that a late commit fails and counts nothing. */
		if (!__atomic_compare_exchange_n(ring_slot(r, tail), &w,
						 (w & ~REC_STATE_MASK) | REC_SKIPPED, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return -EAGAIN;
		ring_count_lost(r->hdr, rec_event(w));
		skip = size;
	} else {
		skip = ring_resync(r, tail, head);
		if (stall_ns && tail + skip == head)
			return 0; /* nothing written behind it yet: keep waiting */
		ring_count_lost(r->hdr, PK_RING_NR_EVENTS);
	}
	r->abandoned++;
	r->stalled = 0;
	return skip;
}

int pk_ring_consume(struct pk_ring *r, pk_ring_cb cb, void *arg, uint64_t stall_ns)
{
	uint64_t head, tail = r->tail, w, *slot;
	int64_t size;
	int n = 0, ret = 0;

	if (!r->consumer)
		return -EPERM;
	head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	/* Producers only ever move head by whole records, 8-byte aligned. */
	if (head - tail > r->size || (head & 7))
		return -EBADMSG;
	while (tail != head) {
		slot = ring_slot(r, tail);
		w = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		size = ring_parse(r, w, tail, head);
		if (size < 0) {
			ret = size;
			break;
		}
		if (!size || rec_state(w) == REC_BUSY) {
			size = ring_stalled(r, tail, head, w, size, stall_ns);
			if (size == -EAGAIN)
				continue;
			if (!size)
				break;
		} else if (rec_state(w) == REC_COMMITTED) {
			ret = cb(rec_event(w), slot + 1, rec_len(w), arg);
			if (ret < 0)
				break;
			ret = 0;
			n++;
			r->records++;
		} else if (rec_state(w) == REC_DISCARDED) {
			r->discarded++;
		}
		tail += size;
		r->tail = tail;
		/* Producers get space back before the walk ends. */
		if (tail - r->released >= r->size / 4)
			ring_release(r, tail);
	}
	if (r->released != tail)
		ring_release(r, tail);
	return ret < 0 ? ret : n;
}

int pk_ring_set_watermark(struct pk_ring *r, size_t bytes)
{
	if (!r->consumer)
		return -EPERM;
	/* Any more might never be pending at once: never a wake-up. */
	r->watermark = bytes < r->size / 2 ? bytes : r->size / 2;
	return 0;
}

/*
 * Is the record at the tail ready to consume, with the watermark reached
 * (or is it corrupt, for consume to say)?
 */
static int ring_ready(struct pk_ring *r)
{
	uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_SEQ_CST);
	uint64_t w;
	int64_t size;

	if (head == r->tail)
		return 0;
	if (head - r->tail > r->size || (head & 7))
		return 1;
	if (r->watermark && head - r->tail < r->watermark)
		return 0;
	w = __atomic_load_n(ring_slot(r, r->tail), __ATOMIC_SEQ_CST);
	size = ring_parse(r, w, r->tail, head);
	return size < 0 || (size > 0 && rec_state(w) != REC_BUSY);
}

int pk_ring_wait(struct pk_ring *r, int timeout_ms)
{
	struct pk_ring_hdr *h = r->hdr;
	struct timespec ts, *tsp = NULL;
	uint32_t seq;
	long ret;

	if (!r->consumer)
		return -EPERM;
	seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	__atomic_store_n(&h->watermark, r->watermark, __ATOMIC_RELAXED);
	__atomic_store_n(&h->waiting, 1, __ATOMIC_SEQ_CST);
	if (ring_ready(r)) {
		__atomic_store_n(&h->waiting, 0, __ATOMIC_RELAXED);
		return 0;
	}
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	/* A wake between our read of seq and here changed seq: EAGAIN, no sleep. */
	ret = pk_syscall6(SYS_futex, (long)&h->seq, FUTEX_WAIT, seq, (long)tsp, 0, 0);
	__atomic_store_n(&h->waiting, 0, __ATOMIC_RELAXED);
	if (ret == -ETIMEDOUT || ret == -EINTR)
		return ret;
	return 0;
}

uint64_t pk_ring_lost(const struct pk_ring *r, unsigned int event)
{
	if (event >= PK_RING_NR_EVENTS)
		return 0;
	return __atomic_load_n(&r->hdr->lost_by_event[event], __ATOMIC_RELAXED);
}

void pk_ring_get_stats(const struct pk_ring *r, struct pk_ring_stats *st)
{
	st->records = r->records;
	st->discarded = r->discarded;
	st->abandoned = r->abandoned;
	st->lost = __atomic_load_n(&r->hdr->lost, __ATOMIC_RELAXED);
	st->wakeups = __atomic_load_n(&r->hdr->wakeups, __ATOMIC_RELAXED);
}
