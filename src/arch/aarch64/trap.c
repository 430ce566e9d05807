// SPDX-License-Identifier: MIT
/*
 * arm64: system calls, fault-safe reads and instruction boundaries, which
 * work; the engine itself (brk traps, out-of-line slots with relocation of
 * the PC-relative forms, emulation) is not written yet, and every probe is
 * refused with -EOPNOTSUPP, so that the rest of the library (symbols,
 * listings, the tracer's parsing) builds and runs here already.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "internal.h"

long pk_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;

	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}

/*
 * /proc/self/mem, for kernels (or qemu-user, which has no process_vm_readv)
 * that refuse the vector call: a read of an unmapped address fails there too.
 */
static int self_mem(void)
{
	static int fd = -1;
	int cur = __atomic_load_n(&fd, __ATOMIC_ACQUIRE), mine;

	if (cur >= 0)
		return cur;
	mine = (int)pk_syscall6(SYS_openat, AT_FDCWD, (long)"/proc/self/mem", O_RDONLY | O_CLOEXEC,
				0, 0, 0);
	if (mine < 0)
		return mine;
	if (!__atomic_compare_exchange_n(&fd, &cur, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		pk_sys(SYS_close, mine, 0, 0);
		return cur;
	}
	return mine;
}

/* No fault handler of ours yet: the kernel does the copy and reports a bad address. */
PK_API int pk_read_nofault(void *dst, const void *src, size_t n)
{
	struct iovec l = {dst, n}, r = {(void *)src, n};
	long got;
	int fd;

	if (!n)
		return 0;
	got = pk_syscall6(SYS_process_vm_readv, pk_sys(SYS_getpid, 0, 0, 0), (long)&l, 1, (long)&r,
			  1, 0);
	if (got == -ENOSYS && (fd = self_mem()) >= 0)
		got = pk_syscall6(SYS_pread64, fd, (long)dst, (long)n, (long)src, 0, 0);
	return got == (long)n ? 0 : -EFAULT;
}

int arch_init(void)
{
	return 0;
}

void arch_init_late(void)
{
}

void arch_release(void)
{
}

/* A64 instructions are 4 bytes, 4-aligned. */
int arch_insn_length(const uint8_t *buf, size_t avail)
{
	(void)buf;
	return avail >= 4 ? 4 : -EILSEQ;
}

int arch_code_boundary(const uint8_t *code, size_t size, size_t offset)
{
	(void)code;
	return offset % 4 == 0 && offset < size ? 0 : -EILSEQ;
}

/* Stub: the brk engine is not written. */
int arch_can_probe(uintptr_t addr)
{
	(void)addr;
	return -EOPNOTSUPP;
}

/* Stub: the brk engine is not written. */
int arch_prepare_probe(struct pk_site *site)
{
	(void)site;
	return -EOPNOTSUPP;
}

/* Stub: never reached, no site is ever prepared. */
int arch_arm_probe(struct pk_site *site)
{
	(void)site;
	return -EOPNOTSUPP;
}

int arch_disarm_probe(struct pk_site *site)
{
	(void)site;
	return 0;
}

void arch_remove_probe(struct pk_site *site)
{
	(void)site;
}

int arch_may_start_site(uint8_t b)
{
	(void)b;
	return 0;
}

const uint8_t *arch_orig_bytes(const struct pk_site *site)
{
	return (const uint8_t *)&site->arch.insn;
}

unsigned int arch_patched_len(const struct pk_site *site)
{
	(void)site;
	return 0;
}

/* Stub: no return is ever hooked (return probes need entry probes). */
static void rethook_trampoline(void)
{
	__builtin_trap();
}

uintptr_t arch_rethook_trampoline(void)
{
	return (uintptr_t)rethook_trampoline;
}

/*
 * Return handlers that may use FP/SIMD registers: arm64's return
 * trampoline is not written yet (it traps), and when it is, it must save
 * v0-v7 and v16-v31 for such a handler as x86-64's pk_vec_call does.
 */
long pk_vec_call(const void *fn, void *a, void *b)
{
	long (*f)(void *, void *);

	memcpy(&f, &fn, sizeof(f));
	return f(a, b);
}
