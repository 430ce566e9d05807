/* SPDX-License-Identifier: MIT */
/* What the generic C suites need to know about arm64's ABI and libraries. */
#ifndef PK_TEST_ABI_H
#define PK_TEST_ABI_H

/* glibc's arm64 port starts at 2.17: memcpy has one version. */

#endif
