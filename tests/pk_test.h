/* SPDX-License-Identifier: MIT */
/*
 * A minimal test harness: each test binary runs its cases and prints one
 * "PASS name" or "FAIL name: why" line per case; tests/run.sh adds them up.
 */
#ifndef PK_TEST_H
#define PK_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pk_t_failed_case;
static int pk_t_total_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
			pk_t_failed_case = 1;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long pk_a_ = (long long)(a), pk_b_ = (long long)(b);                          \
		if (pk_a_ != pk_b_) {                                                              \
			printf("  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
			       #b, pk_a_, pk_b_);                                                  \
			pk_t_failed_case = 1;                                                      \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *pk_a_ = (a), *pk_b_ = (b);                                             \
		if (!pk_a_ || !pk_b_ || strcmp(pk_a_, pk_b_)) {                                    \
			printf("  %s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
			       #a, #b, pk_a_ ? pk_a_ : "(null)", pk_b_ ? pk_b_ : "(null)");        \
			pk_t_failed_case = 1;                                                      \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		pk_t_failed_case = 0;                                                              \
		fflush(stdout);                                                                    \
		fn();                                                                              \
		printf("%s %s\n", pk_t_failed_case ? "FAIL" : "PASS", #fn);                        \
		fflush(stdout);                                                                    \
		pk_t_total_failed += pk_t_failed_case;                                             \
	} while (0)

#define TEST_EXIT() return pk_t_total_failed ? 1 : 0

#endif
