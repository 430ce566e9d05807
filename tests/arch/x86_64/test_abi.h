/* SPDX-License-Identifier: MIT */
/* What the generic C suites need to know about x86-64's ABI and libraries. */
#ifndef PK_TEST_ABI_H
#define PK_TEST_ABI_H

/* glibc's memcpy before 2.14 (memcpy@GLIBC_2.2.5, beside memcpy@@GLIBC_2.14). */
#define PK_TEST_MEMCPY_OLD_VERSION "GLIBC_2.2.5"

#endif
