// SPDX-License-Identifier: MIT
/*
 * The compiler-matrix corpus (tests/test_compilers.sh builds it with gcc and
 * clang at every -O level and probes each of its instruction boundaries).
 *
 * It is ordinary C, written so that the compilers emit the forms they use
 * in real programs: jump tables and computed gotos, vector loops, inline
 * block moves, locked atomics, thread-locals in each model a shared object
 * can use, stack-protector canaries, fs/gs-relative loads, x87, 128-bit
 * arithmetic and RIP-relative data with immediates. Hand-written bytes
 * (tests/test_reloc.c) check what we thought of; this checks what the
 * compilers actually do.
 *
 * corpus_run() must return the same checksum every time it runs in one
 * process: the driver compares runs before, during and after probing. So it
 * resets all mutable state first and folds in no addresses.
 */
#include <asm/prctl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__BMI2__) || defined(__SSE4_2__)
#include <immintrin.h>
#endif

#define NOINLINE __attribute__((noinline))
#define EXPORT	 __attribute__((visibility("default")))

/* Exported data is reached through the GOT in -fPIC code; static data directly. */
EXPORT unsigned long corpus_global;
EXPORT __thread unsigned long corpus_tls_gd;
static __thread unsigned int tls_ld[4];
static __thread unsigned long tls_ie __attribute__((tls_model("initial-exec")));

static unsigned int rng_state;
static unsigned char mode_flag;
static unsigned int crc_table[256];
static int crc_ready;

static unsigned long fold(unsigned long h, unsigned long v)
{
	return (h ^ (v + 0x9e3779b97f4a7c15UL + (h << 6) + (h >> 2))) * 0x100000001b3UL;
}

static unsigned int rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* A register machine: its dense switch becomes a jump table at every level. */
/* clang-format off */
enum { OP_LI, OP_MOV, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_SHL, OP_SHR, OP_AND, OP_OR, OP_NOT,
       OP_DEC, OP_JNZ, OP_HALT };

struct vm_insn {
	unsigned char op, a, b;
	int imm;
};

static const struct vm_insn vm_prog[] = {
    {OP_LI, 1, 0, 23},	 {OP_LI, 2, 0, 0},  {OP_MOV, 3, 0, 0}, {OP_MUL, 3, 3, 0},
    {OP_XOR, 2, 3, 0},	 {OP_SHL, 3, 0, 3}, {OP_ADD, 2, 3, 0}, {OP_SHR, 4, 2, 7},
    {OP_OR, 2, 4, 0},	 {OP_NOT, 5, 2, 0}, {OP_AND, 2, 5, 0}, {OP_SUB, 0, 1, 0},
    {OP_DEC, 1, 0, 0},	 {OP_JNZ, 1, 0, 2}, {OP_HALT, 0, 0, 0},
};
/* clang-format on */

static NOINLINE unsigned long vm_switch(const struct vm_insn *p, int n, unsigned long r0)
{
	unsigned long r[8] = {r0};
	int pc = 0, steps = 0;

	while (pc < n && steps++ < 4096) {
		const struct vm_insn *in = &p[pc++];

		switch (in->op) {
		case OP_LI: r[in->a] = (unsigned long)in->imm; break;
		case OP_MOV: r[in->a] = r[in->b]; break;
		case OP_ADD: r[in->a] += r[in->b]; break;
		case OP_SUB: r[in->a] -= r[in->b]; break;
		case OP_MUL: r[in->a] *= r[in->b] | 1; break;
		case OP_XOR: r[in->a] ^= r[in->b]; break;
		case OP_SHL: r[in->a] <<= in->imm; break;
		case OP_SHR: r[in->a] = r[in->b] >> in->imm; break;
		case OP_AND: r[in->a] &= r[in->b]; break;
		case OP_OR: r[in->a] |= r[in->b]; break;
		case OP_NOT: r[in->a] = ~r[in->b]; break;
		case OP_DEC: r[in->a]--; break;
		case OP_JNZ: pc = r[in->a] ? in->imm : pc; break;
		case OP_HALT: return r[2] ^ r[0];
		default: return ~0UL;
		}
	}
	return r[2] ^ r[0];
}

/* The same machine with computed gotos: indirect jumps through a label table. */
static NOINLINE unsigned long vm_threaded(const struct vm_insn *p, int n, unsigned long r0)
{
	static const void *const labels[] = {&&li,  &&mov,  &&add, &&sub,  &&mul, &&xor_, &&shl,
					     &&shr, &&and_, &&or_, &&not_, &&dec, &&jnz,  &&halt};
	unsigned long r[8] = {r0};
	const struct vm_insn *in = p;

#define NEXT()                                                                                     \
	do {                                                                                       \
		if (in >= p + n)                                                                   \
			goto halt;                                                                 \
		goto *labels[in->op];                                                              \
	} while (0)
	NEXT();
	/* clang-format off */
li:	r[in->a] = (unsigned long)in->imm; in++; NEXT();
mov:	r[in->a] = r[in->b]; in++; NEXT();
add:	r[in->a] += r[in->b]; in++; NEXT();
sub:	r[in->a] -= r[in->b]; in++; NEXT();
mul:	r[in->a] *= r[in->b] | 1; in++; NEXT();
xor_:	r[in->a] ^= r[in->b]; in++; NEXT();
shl:	r[in->a] <<= in->imm; in++; NEXT();
shr:	r[in->a] = r[in->b] >> in->imm; in++; NEXT();
and_:	r[in->a] &= r[in->b]; in++; NEXT();
or_:	r[in->a] |= r[in->b]; in++; NEXT();
not_:	r[in->a] = ~r[in->b]; in++; NEXT();
dec:	r[in->a]--; in++; NEXT();
jnz:	in = r[in->a] ? p + in->imm : in + 1; NEXT();
halt:	return r[2] ^ r[0];
	/* clang-format on */
#undef NEXT
}

/* A switch over constants becomes a lookup table; a sparse one a compare tree. */
static NOINLINE const char *unit_name(unsigned int u)
{
	switch (u) {
	case 0: return "byte";
	case 1: return "word";
	case 2: return "dword";
	case 3: return "qword";
	case 4: return "oword";
	case 5: return "yword";
	case 6: return "zword";
	default: return "?";
	}
}

static NOINLINE int sparse_class(unsigned int v)
{
	switch (v) {
	case 3: return 1;
	case 97: return 2;
	case 1000: return 3;
	case 4096: return 4;
	case 65535: return 5;
	case 100000: return 6;
	default: return v & 1 ? -1 : 0;
	}
}

/* Loops that -O3 (and -O2 with gcc 12) vectorise, with AVX2 when allowed. */
#define VN 64
static float va[VN], vb[VN];
static int ia[VN], ib[VN];
static double dv[VN];
static unsigned char bytes_a[VN], bytes_b[VN];

static NOINLINE void saxpy(float *restrict y, const float *restrict x, float a, int n)
{
	for (int i = 0; i < n; i++)
		y[i] = a * x[i] + y[i];
}

static NOINLINE unsigned long int_loops(int n)
{
	unsigned int dot = 0;
	int mx = ib[0];

	for (int i = 0; i < n; i++)
		dot += (unsigned int)ia[i] * (unsigned int)ib[i];
	for (int i = 0; i < n; i++)
		mx = ib[i] > mx ? ib[i] : mx;
	for (int i = 0; i < n; i++)
		ia[i] = ib[i] < 0 ? -ib[i] : ib[i] >> 1;
	for (int i = 0; i < n; i++)
		bytes_a[i] =
		    (unsigned char)(bytes_a[i] + bytes_b[i] > 255 ? 255 : bytes_a[i] + bytes_b[i]);
	for (int i = 0; i < n; i++)
		dv[i] = (double)ia[i] * 0.5 + va[i];
	return dot ^ (unsigned int)mx ^ ((unsigned long)bytes_a[n / 3] << 32);
}

static NOINLINE unsigned long vector_work(void)
{
	unsigned long h = 0;

	for (int i = 0; i < VN; i++) {
		va[i] = (float)(rng() % 1000) / 8.0f;
		vb[i] = (float)i * 0.25f;
		ia[i] = (int)(rng() % 2001) - 1000;
		ib[i] = (int)(rng() % 2001) - 1000;
		bytes_a[i] = (unsigned char)rng();
		bytes_b[i] = (unsigned char)i;
	}
	saxpy(va, vb, 1.5f, VN);
	h = fold(h, int_loops(VN));
	for (int i = 0; i < VN; i += 7)
		h = fold(h, (unsigned long)(va[i] * 16.0f) ^ (unsigned long)(long)dv[i]);
	return h;
}

/* Struct copies: by value in and out, array element assignment, zeroing. */
struct record {
	char name[40];
	long vals[14];
	double weight;
	int tag;
};

static struct record records[6];

static NOINLINE struct record make_record(int tag, const char *name)
{
	/* Designated: the rest is zeroed, inline (rep stos or vector stores). */
	struct record r = {.tag = tag};

	strncpy(r.name, name, sizeof(r.name) - 1);
	for (int i = 0; i < 14; i++)
		r.vals[i] = (long)tag * (i + 1);
	r.weight = tag * 1.25;
	return r;
}

static NOINLINE unsigned long record_digest(struct record r)
{
	unsigned long h = (unsigned long)r.tag;

	for (int i = 0; i < 14; i++)
		h = fold(h, (unsigned long)r.vals[i]);
	return fold(h, (unsigned long)(r.weight * 4) + (unsigned char)r.name[0]);
}

static NOINLINE unsigned long struct_work(void)
{
	static const char *const names[] = {"alpha", "beta", "gamma", "delta", "eps", "zeta"};
	unsigned long h = 0;

	for (int i = 0; i < 6; i++)
		records[i] = make_record(i * 7 + 1, names[i]);
	records[0] = records[5];
	records[3].vals[2] = -1;
	for (int i = 0; i < 6; i++)
		h = fold(h, record_digest(records[i]));
	memset(&records[2], 0, sizeof(records[2]));
	return fold(h, record_digest(records[2]));
}

/* Atomics: lock xadd, lock add, lock cmpxchg, xchg, lock bts, mfence, cmpxchg16b. */
static long at_counter;
static unsigned int at_bits;
static long at_slot;
static unsigned char at_flag;
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_16
static unsigned __int128 at_wide __attribute__((aligned(16)));
#endif

static NOINLINE unsigned long atomic_work(unsigned int n)
{
	unsigned long h = 0;

	at_counter = 0;
	at_bits = 0;
	at_slot = 1;
	at_flag = 0;
	for (unsigned int i = 0; i < n; i++) {
		long old = __atomic_fetch_add(&at_counter, (long)i, __ATOMIC_SEQ_CST);
		unsigned int bit = 1u << (i * 5 % 32);
		int was = (__atomic_fetch_or(&at_bits, bit, __ATOMIC_SEQ_CST) & bit) != 0;
		long expect = __atomic_load_n(&at_slot, __ATOMIC_ACQUIRE);

		__atomic_add_fetch(&at_counter, 1, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&at_slot, &expect, expect * 3 + 1, 0,
						    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			;
		h = fold(h, (unsigned long)old + (unsigned long)was);
		h = fold(h, (unsigned long)__atomic_exchange_n(&at_slot, old & 0xffff,
							       __ATOMIC_SEQ_CST));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	h = fold(h, __atomic_test_and_set(&at_flag, __ATOMIC_ACQUIRE));
	h = fold(h, __atomic_test_and_set(&at_flag, __ATOMIC_ACQUIRE));
	__atomic_clear(&at_flag, __ATOMIC_RELEASE);
	h = fold(h, (unsigned long)__sync_fetch_and_sub(&at_counter, 3));
#ifdef __GCC_HAVE_SYNC_COMPARE_AND_SWAP_16
	at_wide = 5;
	h = fold(h, (unsigned long)__sync_val_compare_and_swap(&at_wide, (unsigned __int128)5,
							       (unsigned __int128)h << 64 | 9));
	h = fold(h, (unsigned long)(at_wide >> 64) ^ (unsigned long)at_wide);
#endif
	return h;
}

/* Thread-locals in the three models a shared object may use, and fs:/gs: directly. */
static NOINLINE unsigned long tls_work(unsigned int n)
{
	unsigned long h = 0;

	for (unsigned int i = 0; i < n; i++) {
		corpus_tls_gd += i;
		tls_ld[i & 3] ^= i * 2654435761u;
		tls_ie = tls_ie * 31 + tls_ld[(i + 1) & 3];
	}
	h = fold(h, corpus_tls_gd);
	h = fold(h, tls_ld[0] ^ tls_ld[3]);
	h = fold(h, tls_ie);
#ifdef __SEG_FS
	{
		/*
		 * glibc's TCB: its first word and its self pointer (fs:0x10, not
		 * fs:0, which clang would take for a null dereference) hold its
		 * own address; the canary's low byte is always zero.
		 */
		unsigned long self = *(const __seg_fs unsigned long *)0x10;
		unsigned long canary = *(const __seg_fs unsigned long *)0x28;

		h = fold(h,
			 (self && *(const unsigned long *)self == self) + ((canary & 0xff) == 0));
	}
#endif
	return h;
}

#ifdef __SEG_GS
static unsigned long gs_area[8] = {3, 1, 4, 1, 5, 9, 2, 6};

static NOINLINE unsigned long gs_work(void)
{
	/* A non-zero offset: nothing here wants the compilers' null-pointer rules. */
	__seg_gs unsigned long *g = (__seg_gs unsigned long *)64;
	unsigned long old = 0, h = 0;

	if (syscall(SYS_arch_prctl, ARCH_GET_GS, &old) ||
	    syscall(SYS_arch_prctl, ARCH_SET_GS, (uintptr_t)gs_area - 64))
		return 1;
	for (int i = 0; i < 8; i++)
		h = fold(h, g[i]);
	g[7] = h & 0xff;
	syscall(SYS_arch_prctl, ARCH_SET_GS, old);
	h = fold(h, gs_area[7]);
	gs_area[7] = 6;
	return h;
}
#endif

/* Indirect calls, tail calls (direct, mutual and indirect), calls through the PLT. */
typedef unsigned long (*unop)(unsigned long);

static NOINLINE unsigned long op_rot(unsigned long x)
{
	return x << 13 | x >> 51;
}

static NOINLINE unsigned long op_neg(unsigned long x)
{
	return -x ^ 0x5555;
}

static NOINLINE unsigned long op_sq(unsigned long x)
{
	return x * x + 7;
}

EXPORT NOINLINE unsigned long corpus_hook(unsigned long x)
{
	return fold(x, corpus_global++);
}

static unop const ops[] = {op_rot, op_neg, op_sq, corpus_hook};

static NOINLINE unsigned long apply_tail(unsigned int i, unsigned long x)
{
	return ops[i & 3](x);
}

static NOINLINE unsigned long is_odd(unsigned long n, unsigned long acc);

static NOINLINE unsigned long is_even(unsigned long n, unsigned long acc)
{
	return n ? is_odd(n - 1, acc * 3 + 1) : acc;
}

static NOINLINE unsigned long is_odd(unsigned long n, unsigned long acc)
{
	return n ? is_even(n - 1, acc ^ n) : ~acc;
}

static int cmp_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

static NOINLINE unsigned long call_work(void)
{
	unsigned long h = 1;
	int v[24];

	for (unsigned int i = 0; i < 16; i++) {
		unop f = ops[(i * 7) & 3];

		h = fold(h, f(h) + apply_tail(i, h));
	}
	h = fold(h, is_even(25, 1));
	for (int i = 0; i < 24; i++)
		v[i] = (int)(rng() % 100);
	qsort(v, 24, sizeof(v[0]), cmp_desc);
	return fold(h, (unsigned long)v[0] * 100 + (unsigned long)v[23]);
}

/* Recursion that stays recursion at every level. */
static NOINLINE unsigned int fib(unsigned int n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static NOINLINE void quicksort(int *a, int lo, int hi)
{
	int i = lo, j = hi, pivot = a[(lo + hi) / 2];

	while (i <= j) {
		while (a[i] < pivot)
			i++;
		while (a[j] > pivot)
			j--;
		if (i <= j) {
			int t = a[i];

			a[i++] = a[j];
			a[j--] = t;
		}
	}
	if (lo < j)
		quicksort(a, lo, j);
	if (i < hi)
		quicksort(a, i, hi);
}

/* Variadic: the al vector-register count, register save areas, va_arg of both kinds. */
static NOINLINE double vmix(const char *kinds, ...)
{
	va_list ap;
	double sum = 0;

	va_start(ap, kinds);
	for (const char *k = kinds; *k; k++)
		sum += *k == 'd' ? va_arg(ap, double) : (double)va_arg(ap, long);
	va_end(ap);
	return sum;
}

/* x87 long double, SSE double and the libm calls between them. */
static NOINLINE unsigned long float_work(unsigned int x)
{
	static const long double coef[] = {1.0L, -0.5L, 1.0L / 6, -1.0L / 24, 1.0L / 120};
	long double t = (long double)(x % 1000) / 1000.0L, p = 0;
	double d = (double)(x % 777) + 0.5, acc = 0;

	for (int i = 4; i >= 0; i--)
		p = p * t + coef[i];
	p = sqrtl(p * p + 1.0L) / (t + 2.0L);
	for (int i = 1; i <= 8; i++)
		acc += sqrt(d * i) + floor(d / i) - fabs(d - 300.0 * i) + fmin(d, i * 100.0);
	acc += exp(-d / 500.0) + log1p(d) + (double)lrint(d * 1.5);
	return (unsigned long)(long)(p * 1e12L) ^ (unsigned long)(long)(acc * 1024.0) ^
	       (p > 0.5L ? 1UL << 62 : 0);
}

/* 128-bit integers: mul, adc/sbb, double shifts, and libgcc's division. */
static NOINLINE unsigned long wide_work(unsigned long a, unsigned long b)
{
	unsigned __int128 x = (unsigned __int128)a * b, m = 1, base = a | 1;
	__int128 s = -(__int128)x;
	unsigned int sh = (unsigned int)(b % 120) + 1;
	unsigned long e = b & 0xffff;

	while (e) {
		if (e & 1)
			m = m * base % 0xffffffffffffffc5UL;
		base = base * base % 0xffffffffffffffc5UL;
		e >>= 1;
	}
	x += (unsigned __int128)b << 64;
	x = x << sh | x >> (128 - sh);
	s >>= sh;
	return (unsigned long)(x >> 64) ^ (unsigned long)x ^ (unsigned long)m ^
	       (unsigned long)(s >> 3) ^ (unsigned long)(x / (b | 3));
}

/* Bit tricks: popcnt, tzcnt/bsf, lzcnt/bsr, bswap, rotates, overflow flags, BMI2, crc32. */
static NOINLINE unsigned long bit_work(unsigned long x)
{
	unsigned long h = 0, prod;
	unsigned int ux = (unsigned int)x;
	long sx;

	h = fold(h, (unsigned long)__builtin_popcountl(x));
	h = fold(h, (unsigned long)__builtin_ctzl(x | 1UL << 63));
	h = fold(h, (unsigned long)__builtin_clzl(x | 1));
	h = fold(h, __builtin_bswap64(x) ^ __builtin_bswap32(ux) ^ __builtin_bswap16((uint16_t)x));
	h = fold(h, (unsigned long)__builtin_parityl(x) + (unsigned long)__builtin_ffsl((long)x));
	h = fold(h, (ux >> 7 | ux << 25) + (x >> 3 | x << 61));
	h = fold(h, __builtin_mul_overflow(x, x >> 5, &prod) + prod);
	h = fold(h, (unsigned long)__builtin_add_overflow((long)x, (long)(x << 2), &sx) +
			(unsigned long)sx);
#ifdef __BMI2__
	h = fold(h, _pdep_u64(x, 0x0f0f0f0f0f0f0f0fUL) ^ _pext_u64(x, 0xff00ff00ff00ff00UL));
	h = fold(h, _bzhi_u64(x, ux & 63));
#endif
#ifdef __SSE4_2__
	h = fold(h, _mm_crc32_u64(~0UL, x) ^ _mm_crc32_u8(1, (unsigned char)x));
#endif
	return h;
}

/* Static tables and flags: RIP-relative operands, several with an immediate after them. */
static NOINLINE unsigned int crc32_soft(const unsigned char *p, size_t n)
{
	unsigned int c = ~0u;

	if (!crc_ready) {
		for (unsigned int i = 0; i < 256; i++) {
			unsigned int k = i;

			for (int j = 0; j < 8; j++)
				k = k & 1 ? 0xedb88320u ^ (k >> 1) : k >> 1;
			crc_table[i] = k;
		}
		crc_ready = 1;
	}
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static NOINLINE unsigned long static_work(unsigned int seed)
{
	static unsigned short hist[16];
	static const unsigned char perm[16] = {7,  3, 15, 0, 9, 12, 1, 4,
					       14, 2, 11, 6, 8, 13, 5, 10};
	unsigned long h = 0;

	memset(hist, 0, sizeof(hist));
	mode_flag = 7;
	for (unsigned int i = 0; i < 40; i++) {
		hist[perm[(seed + i) & 15]]++;
		if (mode_flag == 7 && (i & 3) == 0)
			corpus_global += 3;
		if (hist[3] > 2)
			mode_flag = 9;
	}
	for (int i = 0; i < 16; i++)
		h = fold(h, hist[i]);
	return fold(h, mode_flag + corpus_global);
}

/* Strings: hand loops, libc calls, formatting, a variable-length array. */
static NOINLINE size_t my_strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

static NOINLINE void reverse(char *s)
{
	size_t n = my_strlen(s);

	for (size_t i = 0; i < n / 2; i++) {
		char t = s[i];

		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
}

static NOINLINE unsigned long string_work(unsigned int seed)
{
	static const char hex[] = "0123456789abcdef";
	char buf[96], words[64], *save = NULL, *tok;
	unsigned int n = 8 + seed % 9;
	char vla[n + 1];
	unsigned long h = 0;

	snprintf(buf, sizeof(buf), "%u:%s:%.3f:%ld", seed, unit_name(seed % 9), seed / 7.0,
		 -(long)seed);
	reverse(buf);
	h = fold(h, crc32_soft((const unsigned char *)buf, strlen(buf)));
	for (unsigned int i = 0; i < n; i++)
		vla[i] = hex[(seed >> (i % 8 * 4)) & 15];
	vla[n] = 0;
	h = fold(h, my_strlen(vla) + (unsigned long)(strchr(vla, 'f') != NULL));
	strcpy(words, "relocate,emulate;probe,slot");
	for (tok = strtok_r(words, ",;", &save); tok; tok = strtok_r(NULL, ",;", &save))
		h = fold(h, crc32_soft((const unsigned char *)tok, my_strlen(tok)) ^
				(unsigned long)strcmp(tok, "probe"));
	for (char *p = buf; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	h = fold(h, (unsigned long)memcmp(buf, vla, 4) + (memchr(buf, ':', 20) != NULL));
	return h;
}

EXPORT unsigned long corpus_run(unsigned int seed)
{
	unsigned long h = seed;
	int arr[32];

	rng_state = seed | 1;
	corpus_global = 0;
	corpus_tls_gd = 0;
	memset(tls_ld, 0, sizeof(tls_ld));
	tls_ie = 1;

	h = fold(h, vm_switch(vm_prog, sizeof(vm_prog) / sizeof(vm_prog[0]), seed));
	h = fold(h, vm_threaded(vm_prog, sizeof(vm_prog) / sizeof(vm_prog[0]), seed));
	for (unsigned int i = 0; i < 12; i++)
		h = fold(h, my_strlen(unit_name(i)) + (unsigned long)sparse_class(i * 97 + 3));
	h = fold(h, (unsigned long)sparse_class(65535) + (unsigned long)sparse_class(4096));
	h = fold(h, vector_work());
	h = fold(h, struct_work());
	h = fold(h, atomic_work(12));
	h = fold(h, tls_work(10));
#ifdef __SEG_GS
	h = fold(h, gs_work());
#endif
	h = fold(h, call_work());
	h = fold(h, fib(11));
	for (int i = 0; i < 32; i++)
		arr[i] = (int)(rng() % 500);
	quicksort(arr, 0, 31);
	h = fold(h, (unsigned long)arr[0] << 32 | (unsigned int)arr[31]);
	h = fold(h, (unsigned long)(long)vmix("ldldd", 3L, 0.25, -7L, 1e3, 2.5) ^
			(unsigned long)(long)vmix("dddddddddl", 1., 2., 3., 4., 5., 6., 7., 8., 9.,
						  10L));
	h = fold(h, float_work(seed));
	h = fold(h, wide_work(h | 1, seed * 2654435761UL));
	h = fold(h, bit_work(h));
	h = fold(h, static_work(seed));
	h = fold(h, string_work(seed));
	return h;
}
