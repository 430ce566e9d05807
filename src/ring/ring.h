/* SPDX-License-Identifier: MIT */
/*
 * The trace ring: one shared-memory mapping between the probekit CLI (the
 * consumer, which creates it) and the in-process agent of the traced
 * program (the producers: any thread, inside signal handlers).
 *
 * Layout of the memfd: a header of PK_RING_HDR_SIZE bytes (struct
 * pk_ring_hdr) followed by a power-of-two data area. Positions (head, tail)
 * are byte counts that only grow; a position's place in the data area is
 * pos & (data_size - 1), so that no value read from shared memory can make
 * either side address outside the mapping.
 *
 * A record is one 8-byte header word followed by its payload, padded to 8
 * bytes. The header word carries, from bit 0 up: the state (3 bits), the
 * payload length (29 bits), the event id (16 bits) and the low 16 bits of
 * the lap (pos / data_size) the record was written in. The lap stamp tells a
 * header written in this lap from stale bytes of an earlier one, so that the
 * consumer never mistakes leftovers for a record. A record never wraps: a
 * reservation that would cross the end of the data area takes a padding
 * record up to the end as well, in the same atomic step.
 *
 * Producers reserve with a compare-and-swap on head, write their header
 * (state BUSY) at once, fill in the payload, and commit or discard with a
 * compare-and-swap on that header word. No locks, no allocation, no system
 * call unless the consumer said that it sleeps. The consumer walks records
 * from its tail in order, stops at the first one still BUSY, and gives space
 * back by zeroing it and publishing a new tail.
 *
 * What if a producer never commits (its thread longjmp'd out of the handler,
 * or the traced process died mid-record)? pk_ring_consume() takes a stall
 * timeout: a record that stays BUSY for that long, while later records are
 * waiting behind it, is marked SKIPPED and counted lost (total and per
 * event). Its producer, if it was only slow, finds out at commit, which then
 * fails with -ETIMEDOUT and counts nothing more. A producer that dies between
 * moving head and writing its header (two instructions) leaves zeroed bytes
 * of unknown length: after the timeout the consumer scans forward to the next
 * valid header and counts one lost record (total only: its event is unknown).
 * With a stall timeout of 0, which the CLI passes once the traced process has
 * exited, every such record is given up at once.
 *
 * The timeout is a guess about liveness. A producer stalled for longer than
 * it (say it was stopped in a debugger) may, once it runs again, write its
 * payload into space that has been reused: that can garble a later record's
 * bytes, never write outside the data area, and never make the consumer read
 * outside it, because the consumer validates every header against its own
 * view of the sizes. Pick a timeout far above any scheduling delay (seconds).
 */
#ifndef PK_RING_H
#define PK_RING_H

#include <stddef.h>
#include <stdint.h>

#define PK_RING_MAGIC	  0x3130474e49524b50ULL /* "PKRING01" */
#define PK_RING_VERSION	  1
#define PK_RING_NR_EVENTS 65536 /* the header's 16-bit event id */
#define PK_RING_HDR_SIZE  (4096 + PK_RING_NR_EVENTS * 8)
#define PK_RING_MIN_DATA  4096
#define PK_RING_MAX_DATA  (1ULL << 30)
/* Stall timeout of pk_ring_consume(): never give up on a BUSY record. */
#define PK_RING_STALL_NEVER UINT64_MAX

/*
 * The shared header. Everything in it may be scribbled over by the traced
 * program: each side copies the sizes at create/attach time and never reads
 * them again.
 */
struct pk_ring_hdr {
	/* Written once by the consumer, before the fd is handed out. */
	uint64_t magic;
	uint32_t version;
	uint32_t nr_events;
	uint64_t hdr_size;
	uint64_t data_size;
	/* Every reservation bounces this line: keep it alone. */
	_Alignas(64) uint64_t head;
	/* Read by every reservation, written once per consumer batch. */
	_Alignas(64) uint64_t tail;
	/* Futex word, bumped by the producer that wakes the consumer. */
	_Alignas(64) uint32_t seq;
	/* Set by the consumer before it sleeps: only then do producers wake it. */
	uint32_t waiting;
	/* ...and once this many bytes are pending (0: at the first commit). */
	uint64_t watermark;
	uint64_t wakeups;
	/* Only written when something is lost. */
	_Alignas(64) uint64_t lost;
	_Alignas(4096) uint64_t lost_by_event[PK_RING_NR_EVENTS];
};

_Static_assert(sizeof(struct pk_ring_hdr) == PK_RING_HDR_SIZE, "ring header size");

/*
 * One side's handle on a ring. Allocated by the caller (no malloc on either
 * side); the fields are private to ring.c.
 */
struct pk_ring {
	struct pk_ring_hdr *hdr;
	unsigned char *data;
	uint64_t size; /* of the data area: our copy, never re-read */
	uint64_t mask;
	unsigned int shift;
	uint32_t max_len;
	size_t map_len;
	int fd;	      /* owned by the consumer side only */
	int consumer; /* created (1) or attached (0) */
	/* Consumer side. */
	uint64_t tail;	   /* ours; the shared copy is only ever written */
	uint64_t released; /* zeroed and published up to here */
	uint64_t stall_pos;
	uint64_t stall_since;
	int stalled;
	uint64_t watermark;
	uint64_t records;
	uint64_t discarded;
	uint64_t abandoned;
};

/* A reservation, kept by the producer between reserve and commit. */
struct pk_ring_res {
	void *data; /* the payload: len bytes, writable up to len rounded up to 8 */
	uint64_t pos;
	uint64_t word;
};

struct pk_ring_stats {
	uint64_t records;   /* committed records handed to the callback (consumer side) */
	uint64_t discarded; /* reservations their producer discarded (consumer side) */
	uint64_t abandoned; /* reservations the consumer gave up on (also in lost) */
	uint64_t lost;	    /* events that never made it: failed reservations, abandoned */
	uint64_t wakeups;   /* futex wakes issued by producers */
};

/**
 * typedef pk_ring_cb - Called by pk_ring_consume() for each committed record.
 * @event: the event id the record was reserved with (< PK_RING_NR_EVENTS)
 * @data: the payload, 8-byte aligned, in shared memory: the traced program
 *	may still change it, so parse a copy of anything used as a length or an
 *	index
 * @len: the payload length passed to pk_ring_reserve()
 * @arg: the argument of pk_ring_consume()
 *
 * Return: 0 to go on; a negative errno to stop. The record is then left in
 * the ring, to be delivered again by the next pk_ring_consume().
 */
typedef int (*pk_ring_cb)(unsigned int event, const void *data, size_t len, void *arg);

/**
 * pk_ring_create() - Create a ring, as its consumer.
 * @r: the handle to fill in
 * @data_size: size of the data area, rounded up to a power of two and to at
 *	least PK_RING_MIN_DATA
 *
 * The ring lives in a sealed memfd (it cannot shrink or grow: no SIGBUS in
 * the traced program), opened close-on-exec: clear FD_CLOEXEC in the child
 * that execs the traced program, and tell the agent the fd number.
 *
 * Context: process context, not async-signal-safe.
 * Return:
 * * 0 - @r is the consumer of a new, empty ring
 * * -EINVAL - @data_size is larger than PK_RING_MAX_DATA
 * * -EMFILE - the process has no file descriptor left
 * * -ENOMEM - the file could not be sized, sealed or mapped
 */
int pk_ring_create(struct pk_ring *r, size_t data_size);

/**
 * pk_ring_attach() - Map a ring created by another process, as a producer.
 * @r: the handle to fill in
 * @fd: the ring's memfd; not taken over (the caller may close it after)
 *
 * Everything in the header is checked against the file's real size, which
 * the seals fix, before any of it is used; the sizes are then copied and the
 * header is never trusted again.
 *
 * Context: process context, not async-signal-safe.
 * Return:
 * * 0 - @r is a producer handle on the ring
 * * -EBADF - @fd is not an open file descriptor
 * * -EBADMSG - @fd is not a ring: a bad magic, sizes inconsistent with each
 *   other or with the file, or a file that is not sealed against shrinking
 * * -EPROTONOSUPPORT - a ring of another PK_RING_VERSION
 * * -ENOMEM - the mapping failed
 */
int pk_ring_attach(struct pk_ring *r, int fd);

/**
 * pk_ring_close() - Unmap a ring; the consumer side closes its memfd too.
 * @r: a handle from pk_ring_create() or pk_ring_attach(), or one zeroed
 *
 * Context: process context; no producer of this process may still use @r.
 */
void pk_ring_close(struct pk_ring *r);

/**
 * pk_ring_fd() - The memfd of a ring, to pass to the producer process.
 * @r: a handle from pk_ring_create()
 *
 * Return: the file descriptor, or -EBADF on a producer handle.
 */
int pk_ring_fd(const struct pk_ring *r);

/**
 * pk_ring_max_len() - The largest payload pk_ring_reserve() accepts.
 * @r: a ring handle
 *
 * A record (8-byte header and payload) may take at most half the data area,
 * so that one always fits in an empty ring wherever head stands.
 *
 * Return: the length in bytes.
 */
size_t pk_ring_max_len(const struct pk_ring *r);

/**
 * pk_ring_reserve() - Reserve room for one record.
 * @r: a ring handle, either side
 * @event: the record's event id, < PK_RING_NR_EVENTS
 * @len: payload length in bytes (0 allowed)
 * @res: filled in on success: write the payload to @res->data, then pass
 *	@res to pk_ring_commit() or pk_ring_discard()
 *
 * Never waits for the consumer. Every failure counts one lost event, in the
 * total and (when @event is valid) in @event's entry of the lost table.
 *
 * Context: any thread, signal handlers included (also nested in another
 * reservation of the same thread): lock-free, no system call.
 * Return:
 * * 0 - reserved
 * * -ENOSPC - no room between head and tail (as the shared header says)
 * * -E2BIG - @len is larger than pk_ring_max_len(): it never fits
 * * -EINVAL - @event is not below PK_RING_NR_EVENTS
 * * -EAGAIN - lost the race for head too many times in a row
 */
int pk_ring_reserve(struct pk_ring *r, unsigned int event, size_t len, struct pk_ring_res *res);

/**
 * pk_ring_commit() - Publish a reserved record to the consumer.
 * @r: the handle the reservation was made with
 * @res: the reservation
 *
 * Wakes the consumer with one futex system call, only if it said it sleeps.
 *
 * Context: as pk_ring_reserve().
 * Return:
 * * 0 - committed
 * * -ETIMEDOUT - the consumer gave up waiting for this record (see the
 *   stall timeout of pk_ring_consume()); it was counted lost then
 */
int pk_ring_commit(struct pk_ring *r, const struct pk_ring_res *res);

/**
 * pk_ring_discard() - Drop a reserved record (a filter said no, say).
 * @r: the handle the reservation was made with
 * @res: the reservation
 *
 * The consumer skips a discarded record without delay; it is not lost.
 *
 * Context: as pk_ring_reserve().
 * Return:
 * * 0 - discarded
 * * -ETIMEDOUT - the consumer gave up waiting for this record first; it was
 *   counted lost then
 */
int pk_ring_discard(struct pk_ring *r, const struct pk_ring_res *res);

/**
 * pk_ring_consume() - Hand every committed record, in order, to a callback.
 * @r: the consumer handle
 * @cb: called once per committed record
 * @arg: passed to @cb
 * @stall_ns: how long a record may stay reserved but uncommitted, while
 *	later records wait behind it, before it is given up as abandoned and
 *	counted lost; 0 once the producer process is known to be gone (then
 *	anything uncommitted is given up at once); PK_RING_STALL_NEVER to wait
 *	for ever
 *
 * Walks from the tail to the head seen on entry, so a busy ring does not
 * keep it here for ever; stops early at a record still in the making. Space
 * is given back to the producers in batches as the walk goes.
 *
 * Context: the one consumer thread; not async-signal-safe.
 * Return:
 * * >= 0 - the number of records handed to @cb
 * * -EBADMSG - the ring is corrupt: a header or head that no producer of
 *   this ring writes; nothing past it is read
 * * -EPERM - @r is a producer handle
 * * any other negative errno - what @cb returned to stop the walk
 */
int pk_ring_consume(struct pk_ring *r, pk_ring_cb cb, void *arg, uint64_t stall_ns);

/**
 * pk_ring_set_watermark() - How much must be pending before a wake-up.
 * @r: the consumer handle
 * @bytes: pk_ring_wait() sleeps until the record at the tail is ready and
 *	at least this many bytes (headers and padding included) are reserved;
 *	0 (the default) wakes at the first commit. Capped at half the data area.
 *
 * Each wake-up costs the producer that does it a system call; under load a
 * watermark turns one per few records into one per batch, while the
 * timeout of pk_ring_wait() bounds how late a trickle of records is seen.
 *
 * Context: the one consumer thread.
 * Return:
 * * 0 - set
 * * -EPERM - @r is a producer handle
 */
int pk_ring_set_watermark(struct pk_ring *r, size_t bytes);

/**
 * pk_ring_wait() - Sleep until records can be consumed.
 * @r: the consumer handle
 * @timeout_ms: the longest sleep; negative waits for ever
 *
 * Sleeps on a futex in the shared header; a producer wakes it on a commit or
 * discard that brings the pending bytes to the watermark. Returns at once if
 * that is already so.
 *
 * Context: the one consumer thread; not async-signal-safe.
 * Return:
 * * 0 - there may be something to consume
 * * -ETIMEDOUT - @timeout_ms went by with nothing to consume
 * * -EINTR - a signal handler ran
 * * -EPERM - @r is a producer handle
 */
int pk_ring_wait(struct pk_ring *r, int timeout_ms);

/**
 * pk_ring_lost() - How many events of one id were lost.
 * @r: a ring handle, either side
 * @event: the event id
 *
 * Return: the count, read from shared memory; 0 if @event is out of range.
 */
uint64_t pk_ring_lost(const struct pk_ring *r, unsigned int event);

/**
 * pk_ring_get_stats() - The ring's counters.
 * @r: a ring handle, either side
 * @st: filled in; the consumer-side counts are 0 on a producer handle
 */
void pk_ring_get_stats(const struct pk_ring *r, struct pk_ring_stats *st);

#endif /* PK_RING_H */
