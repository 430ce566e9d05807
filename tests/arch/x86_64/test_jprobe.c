// SPDX-License-Identifier: MIT
/*
 * Jprobes: the entry handler gets the function's exact arguments (integer,
 * double, vector, struct by value, stack, variadic), works on a copy of the
 * stack arguments, and the function then runs untouched; jprobes run with
 * kprobes and retprobes on one function; unregister with threads inside.
 */
#include <errno.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "probekit.h"
#include "pk_test.h"

#define FN __attribute__((noipa, noinline, used))

/* What the last entry handler saw. */
static long seen[16];
static double seen_d[16];
static int entries;

/* Clobber what an entry handler may clobber: vector registers and scratch GPRs. */
static void scribble(void)
{
	__asm__ volatile(
	    "pxor %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1\n\tmovaps %%xmm1, %%xmm7\n\t"
	    "xor %%eax, %%eax\n\tmov $-1, %%r11\n\tmov $-1, %%r10"
	    :
	    :
	    : "xmm0", "xmm1", "xmm7", "rax", "r10", "r11");
}

FN long f0(void)
{
	return 42;
}
FN long f1(long a)
{
	return a * 3;
}
FN long f2(long a, long b)
{
	return a - b;
}
FN long f3(long a, long b, long c)
{
	return a * b + c;
}
FN long f4(long a, long b, long c, long d)
{
	return a + b * c - d;
}
FN long f5(long a, long b, long c, long d, long e)
{
	return a ^ b ^ c ^ d ^ e;
}
FN long f6(long a, long b, long c, long d, long e, long f)
{
	return a + b + c + d + e + f;
}
FN long f7(long a, long b, long c, long d, long e, long f, long g)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g;
}
FN long f8(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a - b + c - d + e - f + g - h * 100;
}

static FN long e0(void)
{
	entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}
static FN long e1(long a)
{
	seen[0] = a, entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}
static FN long e2(long a, long b)
{
	seen[0] = a, seen[1] = b, entries++;
	pk_jprobe_return();
	return 0;
}
static FN long e3(long a, long b, long c)
{
	seen[0] = a, seen[1] = b, seen[2] = c, entries++;
	pk_jprobe_return();
	return 0;
}
static FN long e4(long a, long b, long c, long d)
{
	seen[0] = a, seen[1] = b, seen[2] = c, seen[3] = d, entries++;
	pk_jprobe_return();
	return 0;
}
static FN long e5(long a, long b, long c, long d, long e)
{
	seen[0] = a, seen[1] = b, seen[2] = c, seen[3] = d, seen[4] = e, entries++;
	pk_jprobe_return();
	return 0;
}
static FN long e6(long a, long b, long c, long d, long e, long f)
{
	seen[0] = a, seen[1] = b, seen[2] = c, seen[3] = d, seen[4] = e, seen[5] = f, entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}
static FN long e7(long a, long b, long c, long d, long e, long f, long g)
{
	seen[0] = a, seen[1] = b, seen[2] = c, seen[3] = d, seen[4] = e, seen[5] = f, seen[6] = g;
	entries++;
	pk_jprobe_return();
	return 0;
}
static FN long e8(long a, long b, long c, long d, long e, long f, long g, long h)
{
	seen[0] = a, seen[1] = b, seen[2] = c, seen[3] = d, seen[4] = e, seen[5] = f, seen[6] = g;
	seen[7] = h, entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}

/* Register a jprobe on @fn with @entry, call @call, check entries and the result. */
static void one_jprobe(void *fn, void *entry, long (*call)(void), int nargs)
{
	struct pk_jprobe jp = {.kp.addr = fn, .entry = entry};
	long want = call(), got;
	int i, err;

	memset(seen, 0, sizeof(seen));
	entries = 0;
	err = pk_register_jprobe(&jp);
	CHECK_EQ(err, 0);
	got = call();
	pk_unregister_jprobe(&jp);
	CHECK_EQ(got, want);
	CHECK_EQ(entries, err ? 0 : 1);
	for (i = 0; i < nargs; i++)
		CHECK_EQ(seen[i], (i + 1) * 11 - 5 * (i & 1));
	CHECK_EQ(jp.kp.nmissed, 0);
	CHECK_EQ(call(), want);
}

#define A(i) ((i)*11 - 5 * (((i)-1) & 1))
static long c0(void)
{
	return f0();
}
static long c1(void)
{
	return f1(A(1));
}
static long c2(void)
{
	return f2(A(1), A(2));
}
static long c3(void)
{
	return f3(A(1), A(2), A(3));
}
static long c4(void)
{
	return f4(A(1), A(2), A(3), A(4));
}
static long c5(void)
{
	return f5(A(1), A(2), A(3), A(4), A(5));
}
static long c6(void)
{
	return f6(A(1), A(2), A(3), A(4), A(5), A(6));
}
static long c7(void)
{
	return f7(A(1), A(2), A(3), A(4), A(5), A(6), A(7));
}
static long c8(void)
{
	return f8(A(1), A(2), A(3), A(4), A(5), A(6), A(7), A(8));
}

static void test_integer_args(void)
{
	one_jprobe(f0, e0, c0, 0);
	one_jprobe(f1, e1, c1, 1);
	one_jprobe(f2, e2, c2, 2);
	one_jprobe(f3, e3, c3, 3);
	one_jprobe(f4, e4, c4, 4);
	one_jprobe(f5, e5, c5, 5);
	one_jprobe(f6, e6, c6, 6);
	one_jprobe(f7, e7, c7, 7);
	one_jprobe(f8, e8, c8, 8);
}

FN double fd(double a, double b, double c, double d, double e, double f, double g, double h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

static FN double ed(double a, double b, double c, double d, double e, double f, double g, double h)
{
	seen_d[0] = a, seen_d[1] = b, seen_d[2] = c, seen_d[3] = d;
	seen_d[4] = e, seen_d[5] = f, seen_d[6] = g, seen_d[7] = h;
	entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}

static void test_double_args(void)
{
	struct pk_jprobe jp = {.kp.addr = fd, .entry = ed};
	double want = fd(0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5), got;
	int i;

	entries = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	got = fd(0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5);
	pk_unregister_jprobe(&jp);
	CHECK(got == want);
	CHECK_EQ(entries, 1);
	for (i = 0; i < 8; i++)
		CHECK(seen_d[i] == i + 0.5);
}

/* Vector arguments in ymm registers, where the CPU has AVX. */
__attribute__((target("avx"), noipa, noinline, used)) double fv(__m256d a, __m256d b)
{
	__m256d s = _mm256_add_pd(a, _mm256_mul_pd(b, _mm256_set1_pd(10.0)));
	double out[4];

	_mm256_storeu_pd(out, s);
	return out[0] + out[1] * 100 + out[2] * 10000 + out[3] * 1000000;
}

__attribute__((target("avx"), noipa, noinline, used)) static double ev(__m256d a, __m256d b)
{
	_mm256_storeu_pd(seen_d, a);
	_mm256_storeu_pd(seen_d + 4, b);
	entries++;
	__asm__ volatile("vpxor %%ymm0, %%ymm0, %%ymm0\n\tvpxor %%ymm1, %%ymm1, %%ymm1" ::
			     : "xmm0", "xmm1");
	pk_jprobe_return();
	return 0;
}

__attribute__((target("avx"))) static void vector_case(void)
{
	struct pk_jprobe jp = {.kp.addr = fv, .entry = ev};
	__m256d a = _mm256_set_pd(4, 3, 2, 1), b = _mm256_set_pd(8, 7, 6, 5);
	double want = fv(a, b), got;
	int i;

	entries = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	got = fv(a, b);
	pk_unregister_jprobe(&jp);
	CHECK(got == want);
	CHECK_EQ(entries, 1);
	for (i = 0; i < 8; i++)
		CHECK(seen_d[i] == i + 1);
}

static void test_vector_args(void)
{
	if (__builtin_cpu_supports("avx"))
		vector_case();
}

struct small {
	double x;
	long y;
};
struct big {
	long a, b, c, d, e;
};

FN long fs(struct small s, struct big b, int k)
{
	return (long)s.x * 1000 + s.y * 100 + b.a + b.b * 2 + b.c * 3 + b.d * 4 + b.e * 5 + k;
}

static FN long es(struct small s, struct big b, int k)
{
	seen_d[0] = s.x;
	seen[0] = s.y, seen[1] = b.a, seen[2] = b.b, seen[3] = b.c, seen[4] = b.d, seen[5] = b.e;
	seen[6] = k;
	entries++;
	/* The struct is in the caller's stack argument area: the function must not see this. */
	b.a = 1000000, b.e = -1;
	__asm__ volatile("" : : "m"(b));
	pk_jprobe_return();
	return 0;
}

static void test_struct_by_value(void)
{
	struct pk_jprobe jp = {.kp.symbol_name = "fs", .entry = es};
	struct small s = {7.0, 6};
	struct big b = {1, 2, 3, 4, 5};
	long want = fs(s, b, 9), got;

	entries = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	got = fs(s, b, 9);
	pk_unregister_jprobe(&jp);
	CHECK_EQ(got, want);
	CHECK_EQ(entries, 1);
	CHECK(seen_d[0] == 7.0);
	CHECK_EQ(seen[0], 6);
	CHECK_EQ(seen[1], 1);
	CHECK_EQ(seen[5], 5);
	CHECK_EQ(seen[6], 9);
}

/* Registers run out on both sides: l7, l8, d9 and d10 come from the stack. */
FN double fm(long l1, double d1, long l2, double d2, long l3, double d3, long l4, double d4,
	     long l5, double d5, long l6, double d6, long l7, double d7, long l8, double d8,
	     double d9, float f10, char c, short s)
{
	return l1 + l2 * 2 + l3 * 3 + l4 * 4 + l5 * 5 + l6 * 6 + l7 * 7 + l8 * 8 + d1 + d2 + d3 +
	       d4 + d5 + d6 + d7 + d8 + d9 * 9 + f10 * 10 + c * 11 + s * 12;
}

static FN double em(long l1, double d1, long l2, double d2, long l3, double d3, long l4, double d4,
		    long l5, double d5, long l6, double d6, long l7, double d7, long l8, double d8,
		    double d9, float f10, char c, short s)
{
	seen[0] = l1, seen[1] = l2, seen[2] = l3, seen[3] = l4, seen[4] = l5, seen[5] = l6;
	seen[6] = l7, seen[7] = l8, seen[8] = c, seen[9] = s;
	seen_d[0] = d1, seen_d[1] = d2, seen_d[2] = d3, seen_d[3] = d4, seen_d[4] = d5;
	seen_d[5] = d6, seen_d[6] = d7, seen_d[7] = d8, seen_d[8] = d9, seen_d[9] = f10;
	entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}

static double call_fm(void)
{
	return fm(1, 0.25, 2, 0.5, 3, 0.75, 4, 1.25, 5, 1.5, 6, 1.75, 7, 2.25, 8, 2.5, 3.125, 4.5f,
		  'x', -300);
}

static void test_mixed_stack_args(void)
{
	struct pk_jprobe jp = {.kp.addr = fm, .entry = em};
	double want = call_fm(), got;
	static const double d[] = {0.25, 0.5, 0.75, 1.25, 1.5, 1.75, 2.25, 2.5, 3.125, 4.5};
	int i;

	entries = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	got = call_fm();
	pk_unregister_jprobe(&jp);
	CHECK(got == want);
	CHECK_EQ(entries, 1);
	for (i = 0; i < 8; i++)
		CHECK_EQ(seen[i], i + 1);
	CHECK_EQ(seen[8], 'x');
	CHECK_EQ(seen[9], -300);
	for (i = 0; i < 10; i++)
		CHECK(seen_d[i] == d[i]);
}

/* "l" a long, "d" a double; the rest of the arguments follow @fmt. */
FN double fva(const char *fmt, ...)
{
	va_list ap;
	double sum = 0;
	int i;

	va_start(ap, fmt);
	for (i = 0; fmt[i]; i++)
		sum = sum * 3 + (fmt[i] == 'l' ? (double)va_arg(ap, long) : va_arg(ap, double));
	va_end(ap);
	return sum;
}

static FN double eva(const char *fmt, ...)
{
	va_list ap;
	int i;

	va_start(ap, fmt);
	for (i = 0; fmt[i] && i < 16; i++) {
		if (fmt[i] == 'l')
			seen[i] = va_arg(ap, long);
		else
			seen_d[i] = va_arg(ap, double);
	}
	va_end(ap);
	entries++;
	scribble();
	pk_jprobe_return();
	return 0;
}

static void test_variadic(void)
{
	struct pk_jprobe jp = {.kp.addr = fva, .entry = eva};
	static const char fmt[] = "ldldldldldldldld";
	double want, got;
	int i;

#define VA_ARGS fmt, 1L, 1.5, 2L, 2.5, 3L, 3.5, 4L, 4.5, 5L, 5.5, 6L, 6.5, 7L, 7.5, 8L, 8.5
	want = fva(VA_ARGS);
	entries = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	got = fva(VA_ARGS);
	pk_unregister_jprobe(&jp);
	CHECK(got == want);
	CHECK_EQ(entries, 1);
	for (i = 0; i < 16; i += 2) {
		CHECK_EQ(seen[i], i / 2 + 1);
		CHECK(seen_d[i + 1] == i / 2 + 1.5);
	}
}

/* A jprobe, a kprobe and a retprobe on one function, registered in that order: all fire. */
static int kp_hits, rp_hits, rp_entry_hits;
static long rp_ret;

static int kp_pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	kp_hits++;
	seen[10] = (long)r->di;
	return 0;
}

static int rp_handler(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	(void)ri;
	rp_hits++;
	rp_ret = (long)pk_regs_return_value(r);
	return 0;
}

static int rp_entry(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	(void)ri;
	(void)r;
	rp_entry_hits++;
	return 0;
}

static void test_with_kprobe_and_retprobe(void)
{
	struct pk_jprobe jp = {.kp.symbol_name = "f3", .entry = e3};
	struct pk_probe kp = {.symbol_name = "f3", .pre_handler = kp_pre};
	struct pk_retprobe rp = {
	    .kp.symbol_name = "f3", .handler = rp_handler, .entry_handler = rp_entry};
	long want = f3(5, 6, 7), got;

	entries = kp_hits = rp_hits = rp_entry_hits = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	CHECK_EQ(pk_register_probe(&kp), 0);
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	got = f3(5, 6, 7);
	got += f3(5, 6, 7);
	pk_unregister_probe(&kp);
	got += f3(5, 6, 7);
	pk_unregister_jprobe(&jp);
	got += f3(5, 6, 7);
	pk_unregister_retprobe(&rp);
	CHECK_EQ(got, 4 * want);
	CHECK_EQ(entries, 3);
	CHECK_EQ(kp_hits, 2);
	CHECK_EQ(rp_hits, 4);
	CHECK_EQ(rp_entry_hits, 4);
	CHECK_EQ(rp_ret, want);
	CHECK_EQ(seen[0], 5);
	CHECK_EQ(seen[2], 7);
	CHECK_EQ(seen[10], 5);
}

/* Recursion from the entry handler is a nested hit: missed, the function runs. */
static FN long e1_recursive(long a)
{
	seen[0] = a + f1(a);
	entries++;
	pk_jprobe_return();
	return 0;
}

static void test_refusals_and_nesting(void)
{
	struct pk_jprobe jp = {.kp.symbol_name = "f1", .entry = e1_recursive};
	struct pk_jprobe other = {.kp.symbol_name = "f1", .entry = e1};
	struct pk_jprobe bad = {.kp.symbol_name = "f1", .kp.offset = 1, .entry = e1};
	struct pk_jprobe inside = {.kp.addr = (char *)fm + 4, .entry = e1};
	struct pk_jprobe noentry = {.kp.symbol_name = "f1"};
	struct pk_jprobe nosuch = {.kp.symbol_name = "no_such_function_here", .entry = e1};

	CHECK_EQ(pk_register_jprobe(&bad), -EINVAL);
	CHECK_EQ(pk_register_jprobe(&inside), -EINVAL);
	CHECK_EQ(pk_register_jprobe(&noentry), -EINVAL);
	CHECK_EQ(pk_register_jprobe(&nosuch), -ENOENT);
	CHECK_EQ(pk_register_jprobe(NULL), -EINVAL);
	entries = 0;
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	CHECK_EQ(pk_register_jprobe(&jp), -EEXIST);
	CHECK_EQ(pk_register_jprobe(&other), -EBUSY);
	CHECK_EQ(f1(4), 12);
	CHECK_EQ(entries, 1);
	CHECK_EQ(seen[0], 16);
	CHECK_EQ(jp.kp.nmissed, 1);
	pk_unregister_jprobe(&jp);
	/* Once the first is gone the second may go there, and the first again after it. */
	CHECK_EQ(pk_register_jprobe(&other), 0);
	pk_unregister_jprobe(&other);
	CHECK_EQ(pk_register_jprobe(&jp), 0);
	pk_unregister_jprobe(&jp);
	CHECK_EQ(f1(4), 12);
}

static int stop;
static long thread_errors, thread_calls;
static long slow_entries;

static FN long e4_slow(long a, long b, long c, long d)
{
	__atomic_fetch_add(&slow_entries, 1, __ATOMIC_RELAXED);
	if (a + b + c + d != 10)
		__atomic_fetch_add(&thread_errors, 1, __ATOMIC_RELAXED);
	usleep(50);
	pk_jprobe_return();
	return 0;
}

static void *caller(void *arg)
{
	long n = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (f4(1, 2, 3, 4) != 1 + 2 * 3 - 4)
			__atomic_fetch_add(&thread_errors, 1, __ATOMIC_RELAXED);
		n++;
	}
	__atomic_fetch_add(&thread_calls, n, __ATOMIC_RELAXED);
	return NULL;
}

static void test_unregister_while_running(void)
{
	pthread_t th[4];
	int i, round;

	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, caller, NULL);
	for (round = 0; round < 20; round++) {
		struct pk_jprobe jp = {.kp.addr = f4, .entry = e4_slow};

		CHECK_EQ(pk_register_jprobe(&jp), 0);
		usleep(2000);
		pk_unregister_jprobe(&jp);
		/* The struct goes out of scope: scribble over it as a caller freeing it would. */
		memset(&jp, 0x5a, sizeof(jp));
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(thread_errors, 0);
	CHECK(slow_entries > 0);
	CHECK(thread_calls > slow_entries);
}

int main(void)
{
	RUN(test_integer_args);
	RUN(test_double_args);
	RUN(test_vector_args);
	RUN(test_struct_by_value);
	RUN(test_mixed_stack_args);
	RUN(test_variadic);
	RUN(test_with_kprobe_and_retprobe);
	RUN(test_refusals_and_nesting);
	RUN(test_unregister_while_running);
	TEST_EXIT();
}
