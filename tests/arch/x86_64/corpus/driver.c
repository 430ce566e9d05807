// SPDX-License-Identifier: MIT
/*
 * Driver for tests/test_compilers.sh: loads one build of corpus.c and probes
 * every instruction boundary of every function in it at once, each probe
 * with a pre and a post handler counting hits.
 *
 * usage: driver [--oracle] OBJECT.so
 *
 * The probed run must compute the unprobed checksum, every hit must have run
 * both handlers at the probed address, and removing the probes must leave
 * the code byte for byte as it was and the checksum unchanged. With --oracle
 * every probe's hit count must also equal the number of times a ptrace
 * single-stepper (no probes; slow, so the script asks for it on a few
 * objects only) saw its instruction execute. Refusals are counted by errno
 * and listed with their bytes: the library promises to relocate or emulate
 * everything compilers emit, so each one is a finding.
 *
 * Besides the PASS/FAIL line the output has, for the script to add up:
 *   boundaries N refused R [(ERRNO count, ...)]
 *   hits H
 *   form NAME SEEN EXECUTED      (one line per instruction form)
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

#include "probekit.h"
#include "pk_test.h"
#include "sym/sym.h"
#include "insn.h"

#define SEED 20240611u

struct counted {
	struct pk_probe kp;
	unsigned long pre, post, bad_ip, bad_post_ip, oracle;
	unsigned int forms; /* bit per enum form */
	unsigned char len;
	unsigned char falls_through; /* not a branch: the post handler sees the next address */
	int err;		     /* registration result */
};

struct func {
	uintptr_t start;
	size_t size;
	const char *name;
	unsigned char *orig; /* the bytes before any probe */
	int *index;	     /* byte offset -> probe, or -1 */
};

/* The forms the issue names, and the control transfers the emulator handles. */
/* clang-format off */
enum form {
	FM_LOCK, FM_REP_STRING, FM_FS, FM_GS, FM_STACK_CANARY, FM_RIP, FM_RIP_IMM, FM_SSE, FM_VEX,
	FM_YMM, FM_EVEX, FM_X87, FM_TLS_CALL, FM_ENDBR, FM_NOTRACK, FM_CMPXCHG16B, FM_JMP_IND,
	FM_CALL_IND, FM_CALL, FM_JMP, FM_JCC, FM_RET, NFORMS
};

static const char *const form_names[NFORMS] = {
	"lock", "rep-string", "fs", "gs", "fs-canary", "rip-rel", "rip-rel+imm", "sse", "vex",
	"ymm", "evex", "x87", "tls-call", "endbr64", "notrack", "cmpxchg16b", "jmp-ind",
	"call-ind", "call", "jmp", "jcc", "ret",
};
/* clang-format on */

static struct func *funcs;
static size_t nfuncs, funcs_cap, nskipped;
static struct counted *probes;
static size_t nprobes;

struct range {
	uintptr_t start, end;
};
static struct range blacklist[32];
static int nblacklist;

static int count_pre(struct pk_probe *p, struct pk_regs *r)
{
	struct counted *c = (struct counted *)p;

	c->pre++;
	if (r->ip != (uintptr_t)p->addr)
		c->bad_ip++;
	return 0;
}

static void count_post(struct pk_probe *p, struct pk_regs *r, unsigned long flags)
{
	struct counted *c = (struct counted *)p;

	(void)flags;
	c->post++;
	if (c->falls_through && r->ip != (uintptr_t)p->addr + c->len)
		c->bad_post_ip++;
}

static void load_blacklist(void)
{
	char buf[4096], *line, *save = NULL;

	pk_show_blacklist(buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line && nblacklist < 32;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long s, e;

		if (sscanf(line, "0x%lx-0x%lx", &s, &e) == 2) {
			blacklist[nblacklist].start = s;
			blacklist[nblacklist].end = e;
			nblacklist++;
		}
	}
}

static int is_blacklisted(uintptr_t start, size_t size)
{
	int i;

	for (i = 0; i < nblacklist; i++)
		if (start < blacklist[i].end && start + size > blacklist[i].start)
			return 1;
	return 0;
}

static int collect(const struct pk_sym_info *si, void *arg)
{
	uintptr_t *covered_to = arg;

	/* Aliases and nested symbols would probe the same boundaries twice. */
	if (si->start < *covered_to)
		return 0;
	if (is_blacklisted(si->start, si->size)) {
		nskipped++;
		return 0;
	}
	if (nfuncs == funcs_cap) {
		funcs_cap = funcs_cap ? 2 * funcs_cap : 64;
		funcs = realloc(funcs, funcs_cap * sizeof(*funcs));
		if (!funcs)
			return -ENOMEM;
	}
	funcs[nfuncs].start = si->start;
	funcs[nfuncs].size = si->size;
	funcs[nfuncs].name = si->name;
	funcs[nfuncs].orig = malloc(si->size);
	if (!funcs[nfuncs].orig)
		return -ENOMEM;
	memcpy(funcs[nfuncs].orig, (const void *)si->start, si->size);
	nfuncs++;
	*covered_to = si->start + si->size;
	return 0;
}

static unsigned int classify(const uint8_t *b, size_t avail, uint64_t pc, int *falls_through)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction ins;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	struct pk_insn pi;
	unsigned int f = 0;
	int i;

	if (!ZYAN_SUCCESS(
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, b, avail, &ins, ops)))
		return 0;
	if (ins.attributes & ZYDIS_ATTRIB_HAS_LOCK)
		f |= 1u << FM_LOCK;
	if ((ins.attributes &
	     (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) &&
	    ins.meta.category == ZYDIS_CATEGORY_STRINGOP)
		f |= 1u << FM_REP_STRING;
	if (ins.attributes & ZYDIS_ATTRIB_HAS_NOTRACK)
		f |= 1u << FM_NOTRACK;
	if (ins.encoding == ZYDIS_INSTRUCTION_ENCODING_VEX)
		f |= 1u << FM_VEX;
	if (ins.encoding == ZYDIS_INSTRUCTION_ENCODING_EVEX)
		f |= 1u << FM_EVEX;
	if (ins.meta.isa_set == ZYDIS_ISA_SET_X87)
		f |= 1u << FM_X87;
	if (ins.mnemonic == ZYDIS_MNEMONIC_ENDBR64)
		f |= 1u << FM_ENDBR;
	if (ins.mnemonic == ZYDIS_MNEMONIC_CMPXCHG16B)
		f |= 1u << FM_CMPXCHG16B;
	/* General-dynamic TLS pads its __tls_get_addr call so that the linker can relax it. */
	if (ins.length == 8 && b[0] == 0x66 && b[1] == 0x66 && b[2] == 0x48 && b[3] == 0xe8)
		f |= 1u << FM_TLS_CALL;
	for (i = 0; i < ins.operand_count_visible; i++) {
		const ZydisDecodedOperand *op = &ops[i];

		if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegisterClass rc = ZydisRegisterGetClass(op->reg.value);

			if (rc == ZYDIS_REGCLASS_YMM)
				f |= 1u << FM_YMM;
			if (rc == ZYDIS_REGCLASS_XMM &&
			    ins.encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY)
				f |= 1u << FM_SSE;
		}
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY)
			continue;
		if (op->mem.segment == ZYDIS_REGISTER_FS) {
			f |= 1u << FM_FS;
			if (op->mem.base == ZYDIS_REGISTER_NONE && op->mem.disp.value == 0x28)
				f |= 1u << FM_STACK_CANARY;
		}
		if (op->mem.segment == ZYDIS_REGISTER_GS)
			f |= 1u << FM_GS;
		if (op->mem.base == ZYDIS_REGISTER_RIP) {
			f |= 1u << FM_RIP;
			if (ins.raw.imm[0].size)
				f |= 1u << FM_RIP_IMM;
		}
	}
	if (pk_insn_decode(b, avail, pc, &pi) == 0) {
		*falls_through = pi.kind == PK_INSN_RELOC;
		switch (pi.kind) {
		case PK_INSN_JMP: f |= 1u << FM_JMP; break;
		case PK_INSN_JCC: f |= 1u << FM_JCC; break;
		case PK_INSN_CALL: f |= 1u << FM_CALL; break;
		case PK_INSN_JMP_IND: f |= 1u << FM_JMP_IND; break;
		case PK_INSN_CALL_IND: f |= 1u << FM_CALL_IND; break;
		case PK_INSN_RET: f |= 1u << FM_RET; break;
		default: break;
		}
	}
	return f;
}

static const char *errno_name(int e)
{
	switch (e) {
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case ERANGE: return "ERANGE";
	case EILSEQ: return "EILSEQ";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	default: return "other";
	}
}

static void print_bytes(const char *what, const struct func *fn, uintptr_t pc, int len, int err)
{
	const uint8_t *b = fn->orig + (pc - fn->start);
	size_t left = fn->start + fn->size - pc;
	int i, n = len > 0 ? len : (left < 15 ? (int)left : 15);

	printf("  %s %s+0x%lx:", what, fn->name, (unsigned long)(pc - fn->start));
	for (i = 0; i < n; i++)
		printf(" %02x", b[i]);
	printf(" (%s)\n", errno_name(err));
}

/* Every boundary of every function; a function that does not decode to its end is a finding. */
static void walk(void)
{
	size_t f, cap = 0;

	for (f = 0; f < nfuncs; f++)
		cap += funcs[f].size;
	probes = calloc(cap ? cap : 1, sizeof(*probes));
	if (!probes)
		return;
	for (f = 0; f < nfuncs; f++) {
		struct func *fn = &funcs[f];
		uintptr_t pc = fn->start, end = fn->start + fn->size;

		fn->index = malloc(fn->size * sizeof(int));
		if (!fn->index)
			return;
		memset(fn->index, 0xff, fn->size * sizeof(int));
		while (pc < end) {
			const uint8_t *b = fn->orig + (pc - fn->start);
			size_t avail = end - pc < 15 ? end - pc : 15;
			int len = pk_insn_length(b, avail);
			struct counted *c = &probes[nprobes++];
			int ft = 0;

			c->kp.addr = (void *)pc;
			fn->index[pc - fn->start] = (int)(c - probes);
			if (len <= 0) {
				c->err = -EILSEQ;
				print_bytes("undecodable", fn, pc, 0, EILSEQ);
				break;
			}
			c->forms = classify(b, avail, pc, &ft);
			c->len = (unsigned char)len;
			c->falls_through = (unsigned char)ft;
			pc += (uintptr_t)len;
		}
	}
}

static struct func *func_at(uintptr_t pc)
{
	size_t lo = 0, hi = nfuncs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pc < funcs[mid].start)
			hi = mid;
		else if (pc >= funcs[mid].start + funcs[mid].size)
			lo = mid + 1;
		else
			return &funcs[mid];
	}
	return NULL;
}

static struct counted *probe_at(uintptr_t pc)
{
	struct func *fn = func_at(pc);
	int i = fn ? fn->index[pc - fn->start] : -1;

	return i < 0 ? NULL : &probes[i];
}

/*
 * Count in a forked child, single-stepped, how often each boundary runs in
 * one unprobed corpus_run(). The child inherits the state the earlier runs
 * left (a filled CRC table, say), as the probed run will see it.
 */
static long run_oracle(unsigned long (*run)(unsigned int))
{
	long steps = 0;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		run(SEED);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	while (WIFSTOPPED(status)) {
		struct user_regs_struct regs;
		struct counted *c;

		if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0) {
			c = probe_at(regs.rip);
			if (c)
				c->oracle++;
		}
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0))
			break;
		steps++;
		waitpid(pid, &status, 0);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? steps : -1;
}

/* A rep-prefixed string instruction: single-stepping sees each iteration. */
static int oracle_agrees(const struct counted *c)
{
	if (c->forms & 1u << FM_REP_STRING)
		return c->oracle >= c->pre && (c->oracle > 0) == (c->pre > 0);
	return c->oracle == c->pre;
}

static void probe_every_boundary(const char *path, int oracle)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	unsigned long (*run)(unsigned int);
	unsigned long want, got, hits = 0;
	size_t i, f, refused = 0, bad = 0, seen[NFORMS] = {0}, executed[NFORMS] = {0};
	size_t reasons[256] = {0};
	struct counted *entry = NULL;
	uintptr_t covered_to = 0;
	long steps = 0;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	CHECK(h != NULL);
	if (!h) {
		printf("  dlopen: %s\n", dlerror());
		return;
	}
	*(void **)&run = dlsym(h, "corpus_run");
	CHECK(run != NULL);
	if (!run)
		return;
	want = run(SEED);
	/* The comparison below means nothing unless the corpus is deterministic. */
	CHECK_EQ(run(SEED), want);

	load_blacklist();
	CHECK_EQ(pk_sym_foreach(base, collect, &covered_to), 0);
	CHECK(nfuncs > 20);
	walk();
	CHECK(nprobes > 0);
	if (oracle) {
		steps = run_oracle(run);
		CHECK(steps > 0);
		printf("oracle stepped %ld instructions\n", steps);
	}

	for (i = 0; i < nprobes; i++) {
		struct counted *c = &probes[i];

		/* The walk's own failures were listed as it met them. */
		if (!c->err) {
			c->kp.pre_handler = count_pre;
			c->kp.post_handler = count_post;
			c->err = pk_register_probe(&c->kp);
			if (!c->err) {
				if (c->kp.addr == (void *)(uintptr_t)run)
					entry = c;
				continue;
			}
			if (refused < 20)
				print_bytes("refused", func_at((uintptr_t)c->kp.addr),
					    (uintptr_t)c->kp.addr, c->len, -c->err);
		}
		refused++;
		reasons[-c->err & 255]++;
	}

	/* The stages go out as they happen: a crash must show where it struck. */
	printf("registered %zu probes; running probed\n", nprobes - refused);
	got = run(SEED);
	CHECK_EQ(got, want);

	for (i = 0; i < nprobes; i++) {
		struct counted *c = &probes[i];
		int k;

		for (k = 0; k < NFORMS; k++) {
			if (!(c->forms & 1u << k))
				continue;
			seen[k]++;
			if (c->pre && !c->err)
				executed[k]++;
		}
		if (c->err)
			continue;
		hits += c->pre;
		if ((c->pre != c->post || c->bad_ip || c->bad_post_ip || c->kp.nmissed ||
		     (steps > 0 && !oracle_agrees(c))) &&
		    bad++ < 10) {
			char where[160];

			pk_sprint_symbol(where, sizeof(where), c->kp.addr);
			printf("  %s: pre %lu post %lu oracle %lu, ip wrong in pre %lu post %lu, "
			       "nmissed %lu\n",
			       where, c->pre, c->post, c->oracle, c->bad_ip, c->bad_post_ip,
			       c->kp.nmissed);
		}
	}
	CHECK_EQ(bad, 0);
	CHECK(entry != NULL);
	/* corpus_run ran once while probed: its first instruction was hit exactly once. */
	if (entry)
		CHECK_EQ(entry->pre, 1);

	for (i = 0; i < nprobes; i++)
		if (!probes[i].err)
			pk_unregister_probe(&probes[i].kp);
	for (f = 0; f < nfuncs; f++) {
		int same = memcmp((const void *)funcs[f].start, funcs[f].orig, funcs[f].size) == 0;

		if (!same)
			printf("  %s: code differs after unregistering\n", funcs[f].name);
		CHECK(same);
	}
	CHECK_EQ(run(SEED), want);

	printf("boundaries %zu refused %zu", nprobes, refused);
	if (refused) {
		const char *sep = " (";

		for (i = 0; i < 256; i++)
			if (reasons[i]) {
				printf("%s%s %zu", sep, errno_name((int)i), reasons[i]);
				sep = ", ";
			}
		printf(")");
	}
	printf("\nfunctions %zu skipped %zu\nhits %lu\n", nfuncs, nskipped, hits);
	for (i = 0; i < NFORMS; i++)
		printf("form %s %zu %zu\n", form_names[i], seen[i], executed[i]);
	/* The bar for one object: refusals at most 1% of its boundaries. */
	CHECK(refused * 100 <= nprobes);

	for (f = 0; f < nfuncs; f++) {
		free(funcs[f].orig);
		free(funcs[f].index);
	}
	free(funcs);
	free(probes);
	dlclose(h);
}

static const char *object_path;
static int with_oracle;

static void compilers_corpus(void)
{
	probe_every_boundary(object_path, with_oracle);
}

int main(int argc, char **argv)
{
	with_oracle = argc == 3 && !strcmp(argv[1], "--oracle");
	if (argc != 2 + with_oracle) {
		fprintf(stderr, "usage: %s [--oracle] OBJECT.so\n", argv[0]);
		return 2;
	}
	object_path = argv[argc - 1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(compilers_corpus);
	TEST_EXIT();
}
