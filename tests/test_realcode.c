// SPDX-License-Identifier: MIT
/*
 * Real code: every instruction boundary of real functions from Debian's
 * zlib and libc probed at once, with pre and post handlers, while a
 * workload runs through them.
 *
 * The output must be byte-identical to an unprobed run, and every probe's
 * hit count must equal the number of times a single-stepping tracer (an
 * independent oracle: ptrace, no probes) saw that instruction execute.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "probekit.h"
#include "pk_test.h"
#include "sym/sym.h"
#include "arch/arch.h"
#include "arch_ptrace.h"

static const char *const functions[] = {
    "libz.so.1:inflate",   "libz.so.1:deflate", "libz.so.1:crc32_z",
    "libz.so.1:adler32_z", "libc.so.6:qsort_r",
};
#define NFUNC (sizeof(functions) / sizeof(functions[0]))

struct counted {
	struct pk_probe kp;
	unsigned long pre, post;
	unsigned long oracle;
	int rep; /* a rep-prefixed string instruction: single-step sees each iteration */
};

struct fn {
	uintptr_t start;
	size_t size;
	int *index; /* byte offset -> probe index, or -1 */
};

static struct fn fns[NFUNC];
static struct counted *probes;
static int nprobes;

static int count_pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)r;
	((struct counted *)p)->pre++;
	return 0;
}

static void count_post(struct pk_probe *p, struct pk_regs *r, unsigned long f)
{
	(void)r;
	(void)f;
	((struct counted *)p)->post++;
}

static int cmp_int(const void *a, const void *b, void *arg)
{
	int x = *(const int *)a, y = *(const int *)b;

	(*(long *)arg)++;
	return (x > y) - (x < y);
}

/* Compress and decompress deterministic text at three levels, checksum, sort. */
static size_t workload(unsigned char *out, size_t cap)
{
	static const char *const words[] = {"probe",	"kernel", "return",   "handler",
					    "slot",	"trap",	  "relocate", "emulate",
					    "register", " ",	  "\n"};
	enum { N = 1000 };
	unsigned char *in = malloc(N), *comp = malloc(2 * N), *back = malloc(N);
	unsigned int seed = 12345;
	size_t len = 0, i;
	int levels[3] = {1, 6, 9}, l, ints[150];
	long calls = 0;

	for (i = 0; i < N;) {
		const char *w = words[(seed = seed * 1103515245 + 12345) >> 16 & 7 ? seed % 11 : 0];
		size_t wl = strlen(w);

		if (i + wl > N)
			wl = N - i;
		memcpy(in + i, w, wl);
		i += wl;
	}
	for (l = 0; l < 3; l++) {
		z_stream zs;
		size_t clen;
		uLong crc, ad;

		memset(&zs, 0, sizeof(zs));
		/* Small window and hash: their set-up memsets would dominate single-stepping. */
		deflateInit2(&zs, levels[l], Z_DEFLATED, 10, 2, Z_DEFAULT_STRATEGY);
		zs.next_in = in;
		zs.avail_in = N;
		zs.next_out = comp;
		do {
			/* Small output windows make deflate() take its loop many times. */
			zs.avail_out = 256;
		} while (deflate(&zs, Z_FINISH) != Z_STREAM_END);
		clen = zs.total_out;
		deflateEnd(&zs);

		memset(&zs, 0, sizeof(zs));
		inflateInit2(&zs, 10);
		zs.next_in = comp;
		zs.avail_in = (uInt)clen;
		zs.next_out = back;
		do {
			zs.avail_out = 200;
		} while (inflate(&zs, Z_NO_FLUSH) == Z_OK);
		inflateEnd(&zs);
		crc = crc32_z(0, back, zs.total_out);
		ad = adler32_z(1, back, zs.total_out);
		if (len + clen + 24 <= cap) {
			memcpy(out + len, comp, clen);
			len += clen;
			memcpy(out + len, &crc, 8);
			memcpy(out + len + 8, &ad, 8);
			memcpy(out + len + 16, &zs.total_out, 8);
			len += 24;
		}
	}
	for (i = 0; i < 150; i++)
		ints[i] = (int)((seed = seed * 1103515245 + 12345) >> 8);
	qsort_r(ints, 150, sizeof(int), cmp_int, &calls);
	if (len + sizeof(ints) + 8 <= cap) {
		memcpy(out + len, ints, sizeof(ints));
		len += sizeof(ints);
		memcpy(out + len, &calls, 8);
		len += 8;
	}
	free(in);
	free(comp);
	free(back);
	return len;
}

static int is_rep_string(const uint8_t *b, int len)
{
	int i, rep = 0;

	for (i = 0; i < len; i++) {
		if (b[i] == 0xf3 || b[i] == 0xf2)
			rep = 1;
		else if (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0x2e || b[i] == 0x3e ||
			 b[i] == 0x26 || b[i] == 0x36 || b[i] == 0x64 || b[i] == 0x65 ||
			 b[i] == 0xf0 || (b[i] & 0xf0) == 0x40)
			continue;
		else
			break;
	}
	return rep && i < len && ((b[i] >= 0xa4 && b[i] <= 0xaf) || (b[i] >= 0x6c && b[i] <= 0x6f));
}

static int find_probe(uintptr_t pc)
{
	size_t f;

	for (f = 0; f < NFUNC; f++)
		if (pc >= fns[f].start && pc < fns[f].start + fns[f].size)
			return fns[f].index[pc - fns[f].start];
	return -1;
}

/* Single-step the workload in a child and count executions of each probed instruction. */
static long run_oracle(void)
{
	unsigned char *out = malloc(1 << 16);
	long steps = 0;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		workload(out, 1 << 16);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	while (WIFSTOPPED(status)) {
		struct pk_uregs regs;
		int idx;

		if (arch_ptrace_getregs(pid, &regs) == 0) {
			idx = find_probe(arch_uregs_ip(&regs));
			if (idx >= 0)
				probes[idx].oracle++;
		}
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0))
			break;
		steps++;
		waitpid(pid, &status, 0);
	}
	free(out);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? steps : -1;
}

static void test_every_boundary(void)
{
	static unsigned char want[1 << 16], got[1 << 16];
	size_t wlen, glen, f;
	int i, refused = 0, total = 0, bad = 0, reasons[256] = {0};
	unsigned long hits = 0;
	long steps;

	wlen = workload(want, sizeof(want));
	for (f = 0; f < NFUNC; f++) {
		struct pk_sym_info si;

		CHECK_EQ(pk_sym_lookup(functions[f], &si), 0);
		CHECK(si.size > 0);
		fns[f].start = si.start;
		fns[f].size = si.size;
		fns[f].index = malloc(si.size * sizeof(int));
		memset(fns[f].index, 0xff, si.size * sizeof(int));
		total += (int)si.size; /* an upper bound on boundaries */
	}
	probes = calloc((size_t)total, sizeof(*probes));
	for (f = 0; f < NFUNC; f++) {
		uintptr_t pc = fns[f].start;
		size_t nf = 0;

		while (pc < fns[f].start + fns[f].size) {
			int len = arch_insn_length((const uint8_t *)pc, 15);

			CHECK(len > 0);
			if (len <= 0)
				break;
			probes[nprobes].rep = is_rep_string((const uint8_t *)pc, len);
			probes[nprobes].kp.addr = (void *)pc;
			fns[f].index[pc - fns[f].start] = nprobes++;
			pc += (uintptr_t)len;
			nf++;
		}
		printf("  %-22s %5zu boundaries\n", functions[f], nf);
	}
	/* The oracle first, while the code is still unprobed. */
	steps = run_oracle();
	CHECK(steps > 0);
	for (i = 0; i < nprobes; i++) {
		int err;

		probes[i].kp.pre_handler = count_pre;
		probes[i].kp.post_handler = count_post;
		err = pk_register_probe(&probes[i].kp);
		if (err) {
			refused++;
			reasons[-err & 255]++;
			probes[i].kp.addr = NULL;
		}
	}
	printf("  probed %d boundaries, refused %d", nprobes - refused, refused);
	for (i = 0; i < 256; i++)
		if (reasons[i])
			printf(" [%s: %d]", strerror(i), reasons[i]);
	printf("; oracle stepped %ld instructions\n", steps);
	CHECK(nprobes >= 2000);
	CHECK(refused * 100 <= nprobes);

	glen = workload(got, sizeof(got));
	CHECK_EQ(glen, wlen);
	CHECK(memcmp(got, want, wlen) == 0);
	for (i = 0; i < nprobes; i++) {
		struct counted *c = &probes[i];
		int ok;

		if (!c->kp.addr)
			continue;
		hits += c->pre;
		ok = c->pre == c->post &&
		     (c->rep ? c->oracle >= c->pre && (c->pre > 0) == (c->oracle > 0)
			     : c->pre == c->oracle);
		if (!ok && bad++ < 10) {
			char where[128];

			pk_sprint_symbol(where, sizeof(where), c->kp.addr);
			printf("  %s: pre %lu post %lu oracle %lu\n", where, c->pre, c->post,
			       c->oracle);
		}
	}
	printf("  %lu hits counted; %d mismatches\n", hits, bad);
	CHECK_EQ(bad, 0);
	CHECK(hits > 10000);
	for (i = 0; i < nprobes; i++)
		if (probes[i].kp.addr)
			pk_unregister_probe(&probes[i].kp);
	/* And the code is as it was. */
	glen = workload(got, sizeof(got));
	CHECK(memcmp(got, want, wlen) == 0);
}

int main(void)
{
	RUN(test_every_boundary);
	TEST_EXIT();
}
