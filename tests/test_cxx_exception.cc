// SPDX-License-Identifier: MIT
/*
 * C++ exceptions through return-probed frames. A retprobe leaves the
 * trampoline's address in the return slot, and the unwinder, walking by
 * return addresses, finds no unwind information there; the library puts the
 * real addresses back when an unwind starts. Checked here: the catch runs
 * with the thrown message, destructors of locals in the unwound frames run,
 * rethrow works, a function that catches its own exception returns normally
 * (and is tracked as a normal return), and calls afterwards are tracked with
 * the right return values.
 */
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "probekit.h"
#include "pk_test.h"

#define ROUNDS    200 /* many times MAXACTIVE */
#define MAXACTIVE 4
#define NORMAL    50

extern "C" {
volatile long cx_salt = 11;
}

static int dtors;

struct Guard {
	int id;
	explicit Guard(int i) : id(i)
	{
	}
	~Guard()
	{
		dtors++;
	}
};

/* ---- the probed functions: extern "C" so that the symbols are plain names ---- */

extern "C" __attribute__((noipa)) long cx_leaf(long x)
{
	return x * x + 1;
}

/* Calls a retprobed function from a destructor, that is from a landing pad while unwinding. */
struct LeafCaller {
	long x;
	long *out;
	~LeafCaller()
	{
		*out = cx_leaf(x);
		dtors++;
	}
};

extern "C" __attribute__((noipa)) long cx_thrower(long x)
{
	Guard g(1);

	if (x >= 0)
		throw std::runtime_error("boom " + std::to_string(x));
	return x * 2 + cx_salt;
}

static long leaf_from_dtor;

extern "C" __attribute__((noipa)) long cx_middle(long x)
{
	LeafCaller lc{x, &leaf_from_dtor};
	Guard g(2);
	long r = cx_thrower(x);

	return r + 3 + cx_salt;
}

extern "C" __attribute__((noipa)) long cx_outer(long x)
{
	Guard g(3);
	long r = cx_middle(x);

	return r * 5 + cx_salt;
}

static int rethrow_seen;

extern "C" __attribute__((noipa)) long cx_rethrower(long x)
{
	Guard g(4);

	try {
		return cx_thrower(x) + 1;
	} catch (const std::runtime_error &) {
		rethrow_seen++;
		throw;
	}
}

extern "C" __attribute__((noipa)) long cx_rethrow_outer(long x)
{
	Guard g(5);
	long r = cx_rethrower(x);

	return r - 1 + cx_salt;
}

extern "C" __attribute__((noipa)) long cx_catches(long x)
{
	Guard g(6);

	try {
		return cx_middle(x);
	} catch (const std::runtime_error &e) {
		return (long)strlen(e.what()) + 1000 + x;
	}
}

static long want_leaf(long x)
{
	return x * x + 1;
}

static long want_thrower(long x)
{
	return x * 2 + cx_salt;
}

static long want_middle(long x)
{
	return want_thrower(x) + 3 + cx_salt;
}

static long want_outer(long x)
{
	return want_middle(x) * 5 + cx_salt;
}

static long want_rethrower(long x)
{
	return want_thrower(x) + 1;
}

static long want_rethrow_outer(long x)
{
	return want_rethrower(x) - 1 + cx_salt;
}

static long want_catches(long x)
{
	if (x < 0)
		return want_middle(x);
	return (long)("boom " + std::to_string(x)).size() + 1000 + x;
}

/* ---- counting return probes ---- */

struct crp {
	struct pk_retprobe rp;
	long (*want)(long);
	unsigned long entries, returns, wrong;
};

static int crp_entry(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct crp *c = (struct crp *)ri->rp;

	c->entries++;
	*(long *)ri->data = (long)pk_regs_get_argument(regs, 0);
	return 0;
}

static int crp_ret(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct crp *c = (struct crp *)ri->rp;
	long x = *(long *)ri->data;

	c->returns++;
	if ((long)pk_regs_return_value(regs) != c->want(x))
		c->wrong++;
	return 0;
}

enum { P_LEAF, P_THROWER, P_MIDDLE, P_OUTER, P_RETHROWER, P_RETHROW_OUTER, P_CATCHES, NR_P };

static struct crp probes[NR_P];

static const struct {
	const char *sym;
	long (*want)(long);
} probe_defs[NR_P] = {
	{"cx_leaf", want_leaf},
	{"cx_thrower", want_thrower},
	{"cx_middle", want_middle},
	{"cx_outer", want_outer},
	{"cx_rethrower", want_rethrower},
	{"cx_rethrow_outer", want_rethrow_outer},
	{"cx_catches", want_catches},
};

static int registered;

static void register_all(void)
{
	struct pk_retprobe *rps[NR_P];
	int i;

	for (i = 0; i < NR_P; i++) {
		memset(&probes[i], 0, sizeof(probes[i]));
		probes[i].rp.kp.symbol_name = probe_defs[i].sym;
		probes[i].rp.handler = crp_ret;
		probes[i].rp.entry_handler = crp_entry;
		probes[i].rp.maxactive = MAXACTIVE;
		probes[i].rp.data_size = sizeof(long);
		probes[i].want = probe_defs[i].want;
		rps[i] = &probes[i].rp;
	}
	registered = pk_register_retprobes(rps, NR_P) == 0;
}

static void unregister_all(void)
{
	struct pk_retprobe *rps[NR_P];
	int i;

	for (i = 0; i < NR_P; i++)
		rps[i] = &probes[i].rp;
	pk_unregister_retprobes(rps, NR_P);
	registered = 0;
}

struct snap {
	unsigned long entries[NR_P], returns[NR_P];
};

static snap take(void)
{
	snap s;

	for (int i = 0; i < NR_P; i++) {
		s.entries[i] = probes[i].entries;
		s.returns[i] = probes[i].returns;
	}
	return s;
}

static void no_misses_no_wrong(void)
{
	for (int i = 0; i < NR_P; i++) {
		if (probes[i].rp.nmissed || probes[i].wrong)
			printf("  %s: nmissed %lu, wrong %lu\n", probe_defs[i].sym,
			       probes[i].rp.nmissed, probes[i].wrong);
		CHECK_EQ(probes[i].rp.nmissed, 0);
		CHECK_EQ(probes[i].wrong, 0);
	}
}

/* Ordinary calls after the throws: every retprobed frame tracked, right values. */
static void normal_calls_tracked(void)
{
	snap s = take();
	long x;

	for (x = -1; x >= -NORMAL; x--) {
		leaf_from_dtor = 0;
		CHECK_EQ(cx_outer(x), want_outer(x));
		CHECK_EQ(leaf_from_dtor, want_leaf(x));
	}
	CHECK_EQ(probes[P_OUTER].returns - s.returns[P_OUTER], NORMAL);
	CHECK_EQ(probes[P_MIDDLE].returns - s.returns[P_MIDDLE], NORMAL);
	CHECK_EQ(probes[P_THROWER].returns - s.returns[P_THROWER], NORMAL);
	CHECK_EQ(probes[P_LEAF].returns - s.returns[P_LEAF], NORMAL);
	no_misses_no_wrong();
}

/* ---- cases ---- */

static void test_register(void)
{
	register_all();
	CHECK(registered);
}

static void test_throw_one_frame(void)
{
	int caught = 0, d0 = dtors;
	snap s = take();
	long x;

	for (x = 0; x < ROUNDS; x++) {
		try {
			cx_thrower(x);
			CHECK(0);
		} catch (const std::runtime_error &e) {
			/* CHECK_STR keeps a pointer: the string must outlive its statement. */
			std::string want = "boom " + std::to_string(x);

			CHECK_STR(e.what(), want.c_str());
			caught++;
		}
	}
	CHECK_EQ(caught, ROUNDS);
	CHECK_EQ(dtors - d0, ROUNDS);
	CHECK_EQ(probes[P_THROWER].entries - s.entries[P_THROWER], ROUNDS);
	CHECK_EQ(probes[P_THROWER].returns - s.returns[P_THROWER], 0);
	normal_calls_tracked();
}

static void test_throw_three_frames(void)
{
	int caught = 0, d0 = dtors;
	snap s = take();
	long x;

	for (x = 0; x < ROUNDS; x++) {
		leaf_from_dtor = 0;
		try {
			cx_outer(x);
			CHECK(0);
		} catch (const std::runtime_error &e) {
			std::string want = "boom " + std::to_string(x);

			CHECK_STR(e.what(), want.c_str());
			caught++;
		}
		/* The destructor's call ran during the unwind and returned normally. */
		CHECK_EQ(leaf_from_dtor, want_leaf(x));
	}
	CHECK_EQ(caught, ROUNDS);
	/* Guards in cx_thrower, cx_middle and cx_outer, and the LeafCaller. */
	CHECK_EQ(dtors - d0, 4 * ROUNDS);
	CHECK_EQ(probes[P_OUTER].entries - s.entries[P_OUTER], ROUNDS);
	CHECK_EQ(probes[P_MIDDLE].entries - s.entries[P_MIDDLE], ROUNDS);
	CHECK_EQ(probes[P_THROWER].entries - s.entries[P_THROWER], ROUNDS);
	CHECK_EQ(probes[P_OUTER].returns - s.returns[P_OUTER], 0);
	CHECK_EQ(probes[P_MIDDLE].returns - s.returns[P_MIDDLE], 0);
	CHECK_EQ(probes[P_THROWER].returns - s.returns[P_THROWER], 0);
	CHECK_EQ(probes[P_LEAF].returns - s.returns[P_LEAF], ROUNDS);
	normal_calls_tracked();
}

static void test_rethrow(void)
{
	int caught = 0, d0 = dtors, r0 = rethrow_seen;
	snap s = take();
	long x;

	for (x = 0; x < ROUNDS; x++) {
		try {
			cx_rethrow_outer(x);
			CHECK(0);
		} catch (const std::runtime_error &e) {
			std::string want = "boom " + std::to_string(x);

			CHECK_STR(e.what(), want.c_str());
			caught++;
		}
	}
	CHECK_EQ(caught, ROUNDS);
	CHECK_EQ(rethrow_seen - r0, ROUNDS);
	CHECK_EQ(dtors - d0, 3 * ROUNDS);
	CHECK_EQ(probes[P_RETHROW_OUTER].entries - s.entries[P_RETHROW_OUTER], ROUNDS);
	CHECK_EQ(probes[P_RETHROWER].entries - s.entries[P_RETHROWER], ROUNDS);
	CHECK_EQ(probes[P_RETHROW_OUTER].returns - s.returns[P_RETHROW_OUTER], 0);
	CHECK_EQ(probes[P_RETHROWER].returns - s.returns[P_RETHROWER], 0);

	/* Without a throw, the same path returns through both trampolines. */
	s = take();
	for (x = -1; x >= -NORMAL; x--)
		CHECK_EQ(cx_rethrow_outer(x), want_rethrow_outer(x));
	CHECK_EQ(probes[P_RETHROW_OUTER].returns - s.returns[P_RETHROW_OUTER], NORMAL);
	CHECK_EQ(probes[P_RETHROWER].returns - s.returns[P_RETHROWER], NORMAL);
	normal_calls_tracked();
}

/* The exception never leaves cx_catches: the program sees an ordinary return. */
static void test_caught_inside(void)
{
	int d0 = dtors;
	long x;

	for (x = 0; x < ROUNDS; x++) {
		leaf_from_dtor = 0;
		CHECK_EQ(cx_catches(x), want_catches(x));
		CHECK_EQ(leaf_from_dtor, want_leaf(x));
	}
	/* Guards in cx_thrower, cx_middle, cx_catches, and the LeafCaller. */
	CHECK_EQ(dtors - d0, 4 * ROUNDS);
	for (x = -1; x >= -NORMAL; x--)
		CHECK_EQ(cx_catches(x), want_catches(x));
	normal_calls_tracked();
}

/*
 * A function that returns normally is tracked, even if an exception was
 * thrown and caught below it while it ran: cx_catches returns through its
 * trampoline every time, with the value it computed in its catch block.
 */
static void test_caught_inside_tracked(void)
{
	snap s = take();
	long x;

	for (x = 0; x < ROUNDS; x++)
		CHECK_EQ(cx_catches(x), want_catches(x));
	CHECK_EQ(probes[P_CATCHES].entries - s.entries[P_CATCHES], ROUNDS);
	CHECK_EQ(probes[P_CATCHES].returns - s.returns[P_CATCHES], ROUNDS);
	CHECK_EQ(probes[P_CATCHES].wrong, 0);
	CHECK_EQ(probes[P_CATCHES].rp.nmissed, 0);
}

/* Unregistering with nothing in flight leaves no probe behind and the code as it was. */
static void test_unregister(void)
{
	char buf[1024];

	unregister_all();
	CHECK_EQ(cx_outer(-3), want_outer(-3));
	try {
		cx_outer(7);
		CHECK(0);
	} catch (const std::runtime_error &e) {
		CHECK_STR(e.what(), "boom 7");
	}
	CHECK_EQ(pk_disable_retprobe(&probes[P_OUTER].rp), -EINVAL);
	pk_show_probes(buf, sizeof(buf));
	if (strstr(buf, "cx_")) {
		printf("  still listed:\n%s", buf);
		CHECK(0);
	}
}

int main(void)
{
	RUN(test_register);
	if (!registered)
		TEST_EXIT();
	RUN(test_throw_one_frame);
	RUN(test_throw_three_frames);
	RUN(test_rethrow);
	RUN(test_caught_inside);
	RUN(test_caught_inside_tracked);
	RUN(test_unregister);
	TEST_EXIT();
}
