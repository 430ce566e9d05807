// SPDX-License-Identifier: MIT
/*
 * Writing code of a running process, and out-of-line slots near it.
 *
 * Code is written through /proc/self/mem, which the kernel lets a process do
 * to its own read-only mappings (as ptrace pokes do): no page is ever made
 * writable, so no other thread can see a window where code is not
 * executable, and concurrent writers cannot undo each other's mprotect().
 * Where /proc is not mounted we fall back to mprotect().
 *
 * Slots live in 64 KiB chunks mapped within the arch's reach of the code
 * they serve (ARCH_SLOT_REACH), so that the slot's jump back and any
 * rewritten PC-relative operand reach.
 * Chunks are never unmapped while the engine runs: a thread may be
 * preempted inside a slot. A freed slot (its site removed quiescently) is
 * still not reused at once: a thread that has just cleared its slot marker
 * has one instruction of the slot left to run, the jump back, and may be
 * preempted right there. Freed slots wait out a grace period (thread.c) in
 * a quarantine first.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sym/sym.h"

#define CHUNK_SIZE  (64 * 1024)
#define CHUNK_SLOTS (CHUNK_SIZE / PK_SLOT_SIZE)
#define MAX_CHUNKS  4096
#define REACH	    ARCH_SLOT_REACH

struct chunk {
	uintptr_t base;
	unsigned int used;
	uint64_t bitmap[CHUNK_SLOTS / 64];
};

/* Published append-only so that fault handlers can find slot chunks without a lock. */
static struct chunk chunks[MAX_CHUNKS];
static unsigned int nr_chunks;

/* Freed slots waiting for a grace period that started after they were freed. */
#define QUARANTINE 4096
static struct {
	uintptr_t slot;	     /* or a stub's first byte */
	size_t stub_len;     /* 0 for a slot */
	unsigned long epoch; /* grace periods started before the free */
} quarantine[QUARANTINE];
static unsigned int nr_quarantined;
static unsigned long epoch;
static struct pk_grace grace;
static int grace_running;

/*
 * Pages for the stubs of punned jumps, which land at addresses the code's
 * own bytes dictate: mapped on demand wherever the address space is free,
 * shared by the stubs that fit, each byte's use in a bitmap. Found by page
 * through an open-addressed table.
 */
#define PAGE	   4096UL
#define STUB_PAGES 8192
#define STUB_HASH  16384
#define STUB_SCAN  64 /* pages of a wide window tried, nearest first */
#define USER_TOP   ARCH_USER_TOP
#define MMAP_MIN   0x10000UL
struct stub_page {
	uintptr_t base;
	unsigned int used;
	uint64_t bits[PAGE / 64];
};
static struct stub_page stub_pages[STUB_PAGES];
#define DEFER_FREE ((size_t)-1) /* a quarantined heap object, not a stub */
static unsigned int nr_stub_pages;
static int stub_hash[STUB_HASH]; /* index + 1, 0: empty */
#define RECENT_STUBS 64
#define STUB_LEN_MAX 16
static uintptr_t recent_stub[RECENT_STUBS];
static unsigned int nr_recent_stubs;

static int mem_fd = -1;
static pid_t mem_pid;
static int membarrier_ok = -1;
/*
 * A page the kernel zeroes in a forked child (MADV_WIPEONFORK): a child
 * made without pthread_atfork (a raw fork or clone) would otherwise write
 * its parent's memory through the inherited descriptor. Its word is 1
 * while mem_fd is this process's, so a poke needs no getpid() call.
 */
static volatile int *fork_marker;

static int open_mem(void)
{
	pid_t pid;

	if (mem_fd >= 0 && fork_marker && *fork_marker)
		return mem_fd;
	pid = getpid();
	if (mem_fd >= 0 && mem_pid == pid)
		return mem_fd;
	if (mem_fd >= 0)
		close(mem_fd);
	/* After fork the old descriptor still writes the parent's memory. */
	mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	mem_pid = pid;
	if (!fork_marker) {
		void *p =
		    mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p != MAP_FAILED && !madvise(p, PAGE, MADV_WIPEONFORK))
			fork_marker = p;
		else if (p != MAP_FAILED)
			munmap(p, PAGE);
	}
	if (fork_marker)
		*fork_marker = mem_fd >= 0;
	return mem_fd;
}

static struct stub_page *stub_page_find(uintptr_t base)
{
	unsigned int h = (unsigned int)((base / PAGE * 0x9e3779b97f4a7c15ULL) >> 50) % STUB_HASH;

	for (; stub_hash[h]; h = (h + 1) % STUB_HASH)
		if (stub_pages[stub_hash[h] - 1].base == base)
			return &stub_pages[stub_hash[h] - 1];
	return NULL;
}

static struct stub_page *stub_page_add(uintptr_t base)
{
	unsigned int h = (unsigned int)((base / PAGE * 0x9e3779b97f4a7c15ULL) >> 50) % STUB_HASH;
	struct stub_page *p;

	if (nr_stub_pages == STUB_PAGES)
		return NULL;
	if (mmap((void *)base, PAGE, PROT_READ | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)base)
		return NULL; /* taken (or an old kernel's hint elsewhere: left mapped, harmless) */
	for (; stub_hash[h]; h = (h + 1) % STUB_HASH)
		;
	p = &stub_pages[nr_stub_pages];
	memset(p, 0, sizeof(*p));
	p->base = base;
	pk_store(&nr_stub_pages, nr_stub_pages + 1);
	stub_hash[h] = (int)nr_stub_pages;
	return p;
}

/* Whether nothing is mapped at the page @base: map it and give it back. */
static int page_free(uintptr_t base)
{
	void *m = mmap((void *)base, PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (m == MAP_FAILED)
		return 0;
	munmap(m, PAGE);
	return m == (void *)base;
}

static int stub_bits(struct stub_page *p, size_t off, size_t len, int set)
{
	size_t i;

	for (i = off; i < off + len; i++) {
		uint64_t bit = 1ULL << (i % 64);

		if (set < 0 && (p->bits[i / 64] & bit))
			return 0;
		if (set > 0)
			p->bits[i / 64] |= bit;
		if (set == 0)
			p->bits[i / 64] &= ~bit;
	}
	return 1;
}

/* A free run of @len bytes in @p starting within [lo, hi]; the byte offset or -1. */
static long stub_fit(struct stub_page *p, uintptr_t lo, uintptr_t hi, size_t len)
{
	uintptr_t a = lo > p->base ? lo : p->base;
	uintptr_t b = hi < p->base + PAGE - len ? hi : p->base + PAGE - len;
	uintptr_t step = 1;

	/* A wide window: 16-byte cells (a stub is at most 16), found with one test each. */
	if (b >= a + 16) {
		a = (a + 15) & ~(uintptr_t)15;
		step = 16;
	}
	for (; a <= b; a += step) {
		size_t off = a - p->base;

		if (step == 16 ? !((p->bits[off / 64] >> (off % 64)) & 0xffff)
			       : stub_bits(p, off, len, -1))
			return (long)off;
	}
	return -1;
}

/**
 * pk_stub_claim() - reserve @len bytes for a stub starting in [@lo, @hi].
 * @lo: first acceptable start.
 * @hi: last acceptable start.
 * @len: the stub's length (within one page).
 * @at: the chosen start.
 * @dry: only tell whether there is such a place (a new page is mapped and
 *       unmapped again to find out).
 *
 * Return: 0, or -ERANGE when no such place is free in the address space.
 */
static int stub_claim(uintptr_t lo, uintptr_t hi, size_t len, uintptr_t *at, int dry)
{
	uintptr_t first = lo & ~(PAGE - 1), last = hi & ~(PAGE - 1), base;
	unsigned int pass, tried;

	if (lo < MMAP_MIN || hi + len > USER_TOP || hi < lo)
		return -ERANGE;
	/* Pages we have first (they cost nothing), then new ones. */
	for (pass = 0; pass < 2; pass++) {
		for (base = first, tried = 0; base <= last && tried < STUB_SCAN;
		     base += PAGE, tried++) {
			struct stub_page *p = stub_page_find(base);
			long off;

			if (!p && pass == 1 && dry && page_free(base)) {
				*at = lo > base ? lo : base;
				if (*at + len <= base + PAGE)
					return 0;
			}
			if (!p && pass == 1 && !dry)
				p = stub_page_add(base);
			if (!p)
				continue;
			off = stub_fit(p, lo, hi, len);
			if (off < 0)
				continue;
			*at = base + (uintptr_t)off;
			if (dry)
				return 0;
			stub_bits(p, (size_t)off, len, 1);
			p->used++;
			return 0;
		}
	}
	return -ERANGE;
}

static int reclaim_wait(unsigned int want, int max_ms);

int pk_stub_claim(uintptr_t lo, uintptr_t hi, size_t len, uintptr_t *at, int dry)
{
	unsigned int i;

	if (!stub_claim(lo, hi, len, at, dry))
		return 0;
	/* Only a narrow window can be blocked by one old stub; a wide one was scanned well. */
	if (dry || hi - lo >= PAGE)
		return -ERANGE;
	/*
	 * A probe removed and planted again wants the very place its old stub
	 * still holds through a grace period (a pun's window can be one byte
	 * wide): wait for it rather than fall back to an int3. The last stubs
	 * freed are remembered for this; older ones are long released.
	 */
	for (i = 0; i < RECENT_STUBS; i++)
		if (recent_stub[i] + STUB_LEN_MAX > lo && recent_stub[i] <= hi)
			break;
	if (i == RECENT_STUBS || reclaim_wait(~0u, 50))
		return -ERANGE;
	return stub_claim(lo, hi, len, at, dry);
}

static void stub_release(uintptr_t at, size_t len)
{
	struct stub_page *p = stub_page_find(at & ~(PAGE - 1));

	if (!p)
		return;
	stub_bits(p, at - p->base, len, 0);
	p->used--;
}

static void slot_release(uintptr_t s)
{
	unsigned int i, n = nr_chunks;

	for (i = 0; i < n; i++) {
		if (s >= chunks[i].base && s < chunks[i].base + CHUNK_SIZE) {
			unsigned int idx = (unsigned int)((s - chunks[i].base) / PK_SLOT_SIZE);

			chunks[i].bitmap[idx / 64] &= ~(1ULL << (idx % 64));
			chunks[i].used--;
			return;
		}
	}
}

static void release(unsigned int i)
{
	if (quarantine[i].stub_len == DEFER_FREE) {
		pk_tsan_acquire(quarantine[i].slot);
		free((void *)quarantine[i].slot);
	} else if (quarantine[i].stub_len)
		stub_release(quarantine[i].slot, quarantine[i].stub_len);
	else
		slot_release(quarantine[i].slot);
}

/*
 * Give back the quarantined slots whose grace period has passed, and start
 * the next one for those still waiting. Return: how many were given back.
 */
static unsigned int reclaim(void)
{
	unsigned int i, j, n = 0;

	if (grace_running && pk_grace_passed(&grace, 0)) {
		/* Passed: it started at epoch - 1, after every slot tagged below that. */
		for (i = j = 0; i < nr_quarantined; i++) {
			if (quarantine[i].epoch < epoch) {
				release(i);
				n++;
			} else {
				quarantine[j++] = quarantine[i];
			}
		}
		nr_quarantined = j;
		pk_grace_end(&grace);
		grace_running = 0;
	}
	if (!grace_running && nr_quarantined && !pk_grace_start(&grace)) {
		grace_running = 1;
		epoch++;
	}
	return n;
}

/*
 * Reclaim until @want slots came back (all: the quarantine is empty) or
 * @max_ms passed. Return: 0 or -EBUSY.
 */
static int reclaim_wait(unsigned int want, int max_ms)
{
	struct timespec ts = {0, 1000000};
	unsigned int got = 0;
	int ms;

	for (ms = 0; nr_quarantined && got < want && ms < max_ms; ms++) {
		got += reclaim();
		if (nr_quarantined && got < want)
			nanosleep(&ts, NULL);
	}
	return nr_quarantined && got < want ? -EBUSY : 0;
}

void pk_text_atfork_child(void)
{
	unsigned int i;

	/* Only the forking thread exists here: nobody can be inside a freed slot. */
	for (i = 0; i < nr_quarantined; i++)
		release(i);
	nr_quarantined = 0;
	if (grace_running)
		pk_grace_end(&grace);
	grace_running = 0;
	if (mem_fd >= 0)
		close(mem_fd);
	mem_fd = -1;
	/* membarrier registrations belong to the parent's memory. */
	membarrier_ok = -1;
}

static int maps_read(void);

static int poke_mprotect(void *addr, const void *src, size_t n)
{
	uintptr_t page = (uintptr_t)addr & ~4095UL;
	size_t len = (((uintptr_t)addr + n + 4095) & ~4095UL) - page;
	/* mprotect() restores it: it must be what it is now, not what it was. */
	int prot = maps_read();

	if (!prot)
		prot = pk_text_prot((uintptr_t)addr);
	if (prot < 0)
		return prot;
	if (mprotect((void *)page, len, PROT_READ | PROT_WRITE | PROT_EXEC))
		return -errno;
	memcpy(addr, src, n);
	if (mprotect((void *)page, len, prot))
		return -errno;
	return 0;
}

int pk_text_poke(void *addr, const void *src, size_t n)
{
	int fd = open_mem();
	ssize_t w;

	if (fd < 0)
		return poke_mprotect(addr, src, n);
	w = pwrite(fd, src, n, (off_t)(uintptr_t)addr);
	if (w == (ssize_t)n)
		return 0;
	return w < 0 ? -errno : -EIO;
}

void pk_text_sync(void)
{
	/*
	 * Writing one int3 byte is atomic and x86 keeps instruction fetch
	 * coherent, but a core may still run a stale copy it already fetched;
	 * a sync-core membarrier makes every core serialise before we go on.
	 */
	if (membarrier_ok < 0)
		membarrier_ok =
		    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
			    0) == 0;
	if (membarrier_ok)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0);
}

/* Walk /proc/self/maps; @fn gets each mapping and may stop the walk by returning non-zero. */
static int maps_walk(int (*fn)(uintptr_t lo, uintptr_t hi, const char *perm, void *arg), void *arg)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], perm[8];
	unsigned long lo, hi;
	int r = 0;

	if (!f)
		return -errno;
	while (!r && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3)
			r = fn(lo, hi, perm, arg);
	}
	fclose(f);
	return r;
}

/*
 * What /proc/self/maps said, for pk_text_prot(): reading it costs tens of
 * microseconds, and registering every instruction of a large function asks
 * for the same few mappings tens of thousands of times. The snapshot is read
 * again when an address is in none of its mappings, when objects were
 * loaded or unloaded since (the symbol generation), and when it is older
 * than MAPS_MAX_AGE_MS, so that a mapping the program changed by itself is
 * seen soon after.
 */
#define MAPS_MAX_AGE_MS 100

struct mapping {
	uintptr_t lo, hi;
	int prot;
};

static struct {
	struct mapping *v;
	size_t n, cap;
	unsigned long gen;
	long long taken_ms;
	int valid;
} maps;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int maps_add(uintptr_t lo, uintptr_t hi, const char *perm, void *arg)
{
	(void)arg;
	if (maps.n == maps.cap) {
		size_t cap = maps.cap ? 2 * maps.cap : 64;
		struct mapping *v = realloc(maps.v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		maps.v = v;
		maps.cap = cap;
	}
	maps.v[maps.n++] =
	    (struct mapping){lo, hi,
			     (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) |
				 (perm[2] == 'x' ? PROT_EXEC : 0)};
	return 0;
}

static int maps_read(void)
{
	int r;

	maps.n = 0;
	maps.valid = 0;
	r = maps_walk(maps_add, NULL);
	if (r < 0)
		return r;
	maps.gen = pk_sym_generation();
	maps.taken_ms = now_ms();
	maps.valid = 1;
	return 0;
}

/* The cached mapping that holds @addr (the file lists them in address order), or NULL. */
static const struct mapping *maps_find(uintptr_t addr)
{
	size_t lo = 0, hi = maps.n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (maps.v[mid].hi <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < maps.n && maps.v[lo].lo <= addr ? &maps.v[lo] : NULL;
}

/*
 * The mapping around @addr as last read ([*lo, *hi)), or 0 if none: a hint
 * for searches of free address space, which still map with NOREPLACE.
 */
int pk_text_mapping(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	const struct mapping *m;

	if ((!maps.valid || maps.gen != pk_sym_generation() ||
	     now_ms() - maps.taken_ms > MAPS_MAX_AGE_MS) &&
	    maps_read())
		return 0;
	m = maps_find(addr);
	if (!m)
		return 0;
	*lo = m->lo;
	*hi = m->hi;
	return 1;
}

/* Callers hold pk_lock, which guards the snapshot. */
int pk_text_prot(uintptr_t addr)
{
	const struct mapping *m = NULL;
	int err;

	if (maps.valid && maps.gen == pk_sym_generation() &&
	    now_ms() - maps.taken_ms <= MAPS_MAX_AGE_MS)
		m = maps_find(addr);
	if (!m) {
		err = maps_read();
		if (err)
			return err;
		m = maps_find(addr);
	}
	return m ? m->prot : -EFAULT;
}

struct gap_query {
	uintptr_t lo, hi;   /* window the chunk must lie in */
	uintptr_t prev_end; /* end of the previous mapping */
	uintptr_t want;	    /* preferred address */
	uintptr_t best;
	uintptr_t best_dist;
};

static void consider_gap(struct gap_query *q, uintptr_t gs, uintptr_t ge)
{
	uintptr_t a, b, cand, dist;

	a = gs > q->lo ? gs : q->lo;
	b = ge < q->hi ? ge : q->hi;
	if (b < a + CHUNK_SIZE)
		return;
	/* Closest place to the code inside this gap. */
	if (q->want <= a)
		cand = a;
	else if (q->want >= b - CHUNK_SIZE)
		cand = b - CHUNK_SIZE;
	else
		cand = q->want & ~(uintptr_t)(CHUNK_SIZE - 1);
	if (cand < a)
		cand += CHUNK_SIZE;
	if (cand + CHUNK_SIZE > b)
		return;
	dist = cand > q->want ? cand - q->want : q->want - cand;
	if (!q->best || dist < q->best_dist) {
		q->best = cand;
		q->best_dist = dist;
	}
}

static int gap_cb(uintptr_t lo, uintptr_t hi, const char *perm, void *arg)
{
	struct gap_query *q = arg;

	(void)perm;
	if (lo > q->prev_end)
		consider_gap(q, q->prev_end, lo);
	if (hi > q->prev_end)
		q->prev_end = hi;
	return 0;
}

static int chunk_fits(const struct chunk *c, uintptr_t near1, uintptr_t near2)
{
	uintptr_t lo = c->base, hi = c->base + CHUNK_SIZE;

	return hi - 1 - (near1 < lo ? near1 : lo) < (uintptr_t)REACH &&
	       (near1 > hi ? near1 : hi) - lo < (uintptr_t)REACH &&
	       hi - 1 - (near2 < lo ? near2 : lo) < (uintptr_t)REACH &&
	       (near2 > hi ? near2 : hi) - lo < (uintptr_t)REACH;
}

static int map_chunk(uintptr_t near1, uintptr_t near2, int *err)
{
	uintptr_t mn = near1 < near2 ? near1 : near2, mx = near1 < near2 ? near2 : near1;
	struct gap_query q = {0};
	unsigned int n = nr_chunks;
	void *m;

	if (n == MAX_CHUNKS) {
		*err = -ENOMEM;
		return -1;
	}
	q.lo = mx > (uintptr_t)REACH ? mx - REACH : 0;
	q.hi = mn + REACH - CHUNK_SIZE;
	if (q.lo < MMAP_MIN)
		q.lo = MMAP_MIN; /* below vm.mmap_min_addr */
	if (q.hi > USER_TOP)
		q.hi = USER_TOP;
	q.want = mn;
	if (maps_walk(gap_cb, &q) < 0 || (consider_gap(&q, q.prev_end, q.hi), !q.best)) {
		*err = -ERANGE;
		return -1;
	}
	m = mmap((void *)q.best, CHUNK_SIZE, PROT_READ | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED) {
		*err = errno == EEXIST ? -ERANGE : -ENOMEM;
		return -1;
	}
	if ((uintptr_t)m != q.best) {
		/* Kernels before 4.17 treat the flag as a hint. */
		munmap(m, CHUNK_SIZE);
		*err = -ERANGE;
		return -1;
	}
	chunks[n].base = (uintptr_t)m;
	pk_store(&nr_chunks, n + 1);
	return (int)n;
}

void *pk_slot_alloc(uintptr_t near1, uintptr_t near2, int *err)
{
	unsigned int i, w, n = nr_chunks;
	int ci = -1;

	for (i = 0; i < n && ci < 0; i++)
		if (chunks[i].used < CHUNK_SLOTS && chunk_fits(&chunks[i], near1, near2))
			ci = (int)i;
	/*
	 * Rather the quarantine than a new chunk (a grace period is usually
	 * over within a scheduler tick); with no chunk to be had, wait longer.
	 */
	if (ci < 0 && nr_quarantined && !reclaim_wait(1, 20))
		return pk_slot_alloc(near1, near2, err);
	if (ci < 0)
		ci = map_chunk(near1, near2, err);
	if (ci < 0 && nr_quarantined && !reclaim_wait(1, 1000))
		return pk_slot_alloc(near1, near2, err);
	if (ci < 0)
		return NULL;
	for (w = 0; w < CHUNK_SLOTS / 64; w++) {
		uint64_t free_bits = ~chunks[ci].bitmap[w];
		int b;

		if (!free_bits)
			continue;
		b = __builtin_ctzll(free_bits);
		chunks[ci].bitmap[w] |= 1ULL << b;
		chunks[ci].used++;
		return (void *)(chunks[ci].base + (uintptr_t)(w * 64 + b) * PK_SLOT_SIZE);
	}
	*err = -ENOMEM;
	return NULL;
}

static void defer_free(uintptr_t at, size_t stub_len)
{
	/* Full: wait for one grace period; should that fail, it stays used (a leak, safe). */
	if (nr_quarantined == QUARANTINE && reclaim_wait(~0u, 1000) && nr_quarantined == QUARANTINE)
		return;
	quarantine[nr_quarantined].slot = at;
	quarantine[nr_quarantined].stub_len = stub_len;
	quarantine[nr_quarantined].epoch = epoch;
	nr_quarantined++;
	/* Only started here; checked when a slot is wanted (reading /proc costs). */
	if (!grace_running && !pk_grace_start(&grace)) {
		grace_running = 1;
		epoch++;
	}
}

/* A stub claimed but never jumped to: free at once. */
void pk_stub_unclaim(uintptr_t at, size_t len)
{
	stub_release(at, len);
}

void pk_slot_free(void *slot)
{
	defer_free((uintptr_t)slot, 0);
}

/* A thread may have just jumped into the stub: it too waits out a grace period. */
void pk_stub_free(uintptr_t at, size_t len)
{
	recent_stub[nr_recent_stubs++ % RECENT_STUBS] = at;
	defer_free(at, len);
}

/*
 * A site struct a thread may still be about to read: one that jumped into a
 * detour has not yet announced itself when the site is removed.
 */
void pk_defer_free(void *p)
{
	defer_free((uintptr_t)p, DEFER_FREE);
}

/*
 * The engine is being unloaded and no slot is in use: unmap the chunks and
 * close /proc/self/mem. Return: 0, or -EBUSY while some slot is allocated.
 */
int pk_text_release(void)
{
	unsigned int i, n = nr_chunks;

	if (reclaim_wait(~0u, 1000))
		return -EBUSY;
	for (i = 0; i < n; i++)
		if (chunks[i].used)
			return -EBUSY;
	for (i = 0; i < nr_stub_pages; i++)
		if (stub_pages[i].used)
			return -EBUSY;
	for (i = 0; i < nr_stub_pages; i++)
		munmap((void *)stub_pages[i].base, PAGE);
	pk_store(&nr_stub_pages, 0);
	memset(stub_hash, 0, sizeof(stub_hash));
	pk_store(&nr_chunks, 0);
	for (i = 0; i < n; i++) {
		munmap((void *)chunks[i].base, CHUNK_SIZE);
		memset(&chunks[i], 0, sizeof(chunks[i]));
	}
	if (mem_fd >= 0)
		close(mem_fd);
	mem_fd = -1;
	if (fork_marker)
		munmap((void *)fork_marker, PAGE);
	fork_marker = NULL;
	free(maps.v);
	memset(&maps, 0, sizeof(maps));
	return 0;
}

/* The slot containing @pc, or NULL. Lock-free: used by the fault handler. */
void *pk_slot_base(uintptr_t pc)
{
	unsigned int i, n = pk_load(&nr_chunks);

	for (i = 0; i < n; i++)
		if (pc >= chunks[i].base && pc < chunks[i].base + CHUNK_SIZE)
			return (void *)(pc & ~(uintptr_t)(PK_SLOT_SIZE - 1));
	return NULL;
}

int pk_slot_range(size_t i, uintptr_t *start, uintptr_t *end)
{
	if (i >= pk_load(&nr_chunks))
		return -ENOENT;
	*start = chunks[i].base;
	*end = chunks[i].base + CHUNK_SIZE;
	return 0;
}

/* Whether @addr is in a page of punned jumps' stubs (the blacklist asks). */
int pk_stub_contains(uintptr_t addr)
{
	return stub_page_find(addr & ~(PAGE - 1)) != NULL;
}
