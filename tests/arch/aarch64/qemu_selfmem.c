// SPDX-License-Identifier: MIT
/*
 * Does the CPU (or emulator) run code written through /proc/self/mem, the
 * way text.c writes probes? A function returning 1 is rewritten to return 2
 * that way, then with mprotect() adding write permission and back. Prints
 * one PASS/FAIL line per way; under qemu-user 7.2 the first fails: it keeps
 * the old translation until an mprotect() changes the page.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn_t)(void);

/* mov w0, #n */
static uint32_t mov_w0(int n)
{
	return 0x52800000u | ((uint32_t)n << 5);
}

int main(void)
{
	uint32_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fn_t f = (fn_t)(uintptr_t)p;
	int fd = open("/proc/self/mem", O_RDWR), got, fail = 0;
	uint32_t v;

	if (p == MAP_FAILED || fd < 0)
		return 2;
	p[0] = mov_w0(1);
	p[1] = 0xd65f03c0; /* ret */
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	__builtin___clear_cache((char *)p, (char *)(p + 2));
	if (f() != 1)
		return 2;
	v = mov_w0(2);
	if (pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)p) != (ssize_t)sizeof(v))
		return 2;
	__builtin___clear_cache((char *)p, (char *)(p + 2));
	got = f();
	printf("%s proc_self_mem_write_runs (got %d, memory holds %08x)\n",
	       got == 2 ? "PASS" : "FAIL", got, p[0]);
	fail |= got != 2;
	v = mov_w0(3);
	pwrite(fd, &v, sizeof(v), (off_t)(uintptr_t)p);
	mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC);
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	got = f();
	printf("%s proc_self_mem_write_then_mprotect_runs (got %d)\n", got == 3 ? "PASS" : "FAIL",
	       got);
	fail |= got != 3;
	return fail;
}
