// SPDX-License-Identifier: MIT
/*
 * Return handlers that use vector registers: the trampoline saves no
 * extended state, the return probe whose handler may touch it saves it
 * around that handler only (pk_vec_call). The program's return value in
 * xmm0 must survive.
 */
#include <string.h>

#include "probekit.h"
#include "pk_test.h"

static volatile int ret_hits;

__attribute__((noipa)) double halve(double x)
{
	return x / 2;
}

/* Clobbers xmm0, where halve's result waits, and the ymm upper halves. */
static int clobber_ret(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	char big[4096];

	(void)ri;
	(void)r;
	memset(big, 0x5a, sizeof(big));
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\tvzeroupper" ::"r"(big)
			 : "xmm0", "memory");
	ret_hits++;
	return 0;
}

/* A return handler that uses vector registers: the program's return value in xmm0 survives. */
static void test_vector_return_value_kept(void)
{
	struct pk_retprobe rp = {.kp.symbol_name = "halve", .handler = clobber_ret};
	volatile double x = 5.0;

	ret_hits = 0;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	CHECK(halve(x) == 2.5);
	CHECK(halve(x + 1) == 3.0);
	CHECK_EQ(ret_hits, 2);
	pk_unregister_retprobe(&rp);
}

int main(void)
{
	RUN(test_vector_return_value_kept);
	TEST_EXIT();
}
