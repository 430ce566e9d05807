// SPDX-License-Identifier: MIT
/*
 * x86-64 probe mechanism: int3 traps, out-of-line slots, fault translation.
 *
 * A hit is a SIGTRAP from the int3 over the probed instruction's first
 * byte. The handler runs the pre_handlers on registers taken from the
 * ucontext, then resumes the thread in the site's slot (where the displaced
 * instruction runs relocated and jumps back) or, for an instruction that
 * cannot run elsewhere, emulates it on the registers. No trap-flag single
 * step is ever used: post handlers run from a stub the slot falls into.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/dispatch.h"
#include "internal.h"

#define INT3 0xcc

/* The program's own dispositions, to pass on what is not ours. */
static struct sigaction prev_act[NSIG];
static const int trap_signals[] = {SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

unsigned long pk_xsave_size; /* used by entry.S */
void pk_post_entry(void);
void pk_rethook_trampoline(void);

long pk_syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

long pk_copy_nofault_asm(void *dst, const void *src, size_t n);
extern char pk_copy_nofault_insn[], pk_copy_nofault_fixup[];
static int handlers_installed;
/* The process whose prev_act this is: a child sharing our memory is not it. */
static long owner_pid;

PK_API int pk_read_nofault(void *dst, const void *src, size_t n)
{
	struct iovec l = {dst, n}, r = {(void *)src, n};
	long got;

	if (!n)
		return 0;
	if (__atomic_load_n(&handlers_installed, __ATOMIC_ACQUIRE))
		return pk_copy_nofault_asm(dst, src, n) ? -EFAULT : 0;
	/* Before our fault handler exists the kernel does the copy and reports a bad address. */
	got = pk_syscall6(SYS_process_vm_readv, pk_sys(SYS_getpid, 0, 0, 0), (long)&l, 1, (long)&r,
			  1, 0);
	return got == (long)n ? 0 : -EFAULT;
}

static int pk_write_nofault(void *dst, const void *src, size_t n)
{
	struct iovec l = {(void *)src, n}, r = {dst, n};

	return pk_syscall6(SYS_process_vm_writev, pk_sys(SYS_getpid, 0, 0, 0), (long)&l, 1,
			   (long)&r, 1, 0) == (long)n
		   ? 0
		   : -EFAULT;
}

static void uc_to_regs(const ucontext_t *uc, struct pk_regs *r)
{
	const greg_t *g = uc->uc_mcontext.gregs;

	r->r15 = g[REG_R15];
	r->r14 = g[REG_R14];
	r->r13 = g[REG_R13];
	r->r12 = g[REG_R12];
	r->bp = g[REG_RBP];
	r->bx = g[REG_RBX];
	r->r11 = g[REG_R11];
	r->r10 = g[REG_R10];
	r->r9 = g[REG_R9];
	r->r8 = g[REG_R8];
	r->ax = g[REG_RAX];
	r->cx = g[REG_RCX];
	r->dx = g[REG_RDX];
	r->si = g[REG_RSI];
	r->di = g[REG_RDI];
	r->orig_ax = (unsigned long)-1;
	r->ip = g[REG_RIP];
	r->cs = g[REG_CSGSFS] & 0xffff;
	r->flags = g[REG_EFL];
	r->sp = g[REG_RSP];
	r->ss = 0x2b;
}

static void regs_to_uc(const struct pk_regs *r, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;

	g[REG_R15] = r->r15;
	g[REG_R14] = r->r14;
	g[REG_R13] = r->r13;
	g[REG_R12] = r->r12;
	g[REG_RBP] = r->bp;
	g[REG_RBX] = r->bx;
	g[REG_R11] = r->r11;
	g[REG_R10] = r->r10;
	g[REG_R9] = r->r9;
	g[REG_R8] = r->r8;
	g[REG_RAX] = r->ax;
	g[REG_RCX] = r->cx;
	g[REG_RDX] = r->dx;
	g[REG_RSI] = r->si;
	g[REG_RDI] = r->di;
	g[REG_RIP] = r->ip;
	g[REG_EFL] = r->flags;
	g[REG_RSP] = r->sp;
}

/* Hand a signal that is not ours to what the program had installed. */
static void pass_on(int sig, siginfo_t *si, ucontext_t *uc, int synthetic)
{
	const struct sigaction *a = &prev_act[sig];

	if (a->sa_flags & SA_SIGINFO) {
		a->sa_sigaction(sig, si, uc);
		return;
	}
	if (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN) {
		a->sa_handler(sig);
		return;
	}
	/*
	 * Default action: restore it and let the signal happen again. A real
	 * fault re-executes and re-faults; an int3 or an emulated fault does
	 * not, so send the signal (unblocked in our handler) ourselves.
	 */
	{
		/* The kernel's layout (handler, flags, restorer, mask); SIG_DFL is all zero. */
		unsigned long dfl[4] = {0, 0, 0, 0};

		pk_syscall6(SYS_rt_sigaction, sig, (long)dfl, 0, 8, 0, 0);
		if (sig == SIGTRAP || synthetic)
			pk_sys(SYS_tgkill, pk_sys(SYS_getpid, 0, 0, 0), pk_sys(SYS_gettid, 0, 0, 0),
			       sig);
	}
}

/* An emulated instruction faulted: 1 when the program's handler must see a SIGSEGV. */
static int emulation_fault(struct pk_site *site, ucontext_t *uc, struct pk_regs *regs,
			   struct pk_thread *t)
{
	regs->ip = site->addr;
	if (pk_dispatch_fault(site, regs, SIGSEGV, t)) {
		regs_to_uc(regs, uc);
		return 0;
	}
	regs_to_uc(regs, uc);
	return 1;
}

struct trap_args {
	siginfo_t *si;
	ucontext_t *uc;
	uint64_t fault_addr; /* of an emulated instruction that faulted */
};

enum { TRAP_DONE, TRAP_PASS_ON, TRAP_EMULATION_FAULT };

static long trap_hit(void *arg)
{
	struct trap_args *a = arg;
	ucontext_t *uc = a->uc;
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t addr = (uintptr_t)g[REG_RIP] - 1;
	struct pk_thread *t;
	struct pk_site *site;
	struct pk_regs regs;
	int post, ret;

	t = pk_thread_get();
	/*
	 * A probe hit while this thread is between its return into a slot and
	 * that slot's exit: a signal handler interrupted that window, and the
	 * nested slot will clear the marker the outer one still needs.
	 */
	if (pk_ool)
		__atomic_fetch_add(&pk_nested_windows, 1, __ATOMIC_RELAXED);
	pk_thread_enter(t);
	site = pk_site_lookup(addr);
	if (!site) {
		pk_thread_exit(t);
		/* Removed while this thread was trapping: run the restored instruction. */
		if (*(volatile uint8_t *)addr != INT3) {
			g[REG_RIP] = (greg_t)addr;
			return TRAP_DONE;
		}
		return TRAP_PASS_ON;
	}
	uc_to_regs(uc, &regs);
	regs.ip = addr;
	if (pk_dispatch_pre(site, &regs, t, &post)) {
		regs_to_uc(&regs, uc);
		pk_thread_exit(t);
		return 0;
	}
	if (site->arch.slot) {
		regs.ip = (uintptr_t)site->arch.slot + (post ? PK_SLOT_POST : 0);
		regs_to_uc(&regs, uc);
		pk_ool = (uintptr_t)site;
		pk_thread_exit(t);
		return 0;
	}
	if (pk_insn_emulate(&site->arch.insn, &regs, &a->fault_addr)) {
		ret = emulation_fault(site, uc, &regs, t) ? TRAP_EMULATION_FAULT : TRAP_DONE;
		pk_thread_exit(t);
		return ret;
	}
	if (post)
		pk_dispatch_post(site, &regs, t);
	regs_to_uc(&regs, uc);
	pk_thread_exit(t);
	return 0;
}

/*
 * The kernel's signal frame is on the program's stack; the rest of the hit
 * is not. The program's own handlers run back here, on its stack.
 */
static void on_sigtrap(int sig, siginfo_t *si, void *ucv)
{
	struct trap_args a = {si, ucv, 0};
	siginfo_t fault;
	size_t i;

	if (si->si_code != SI_KERNEL) {
		pass_on(sig, si, ucv, 0);
		return;
	}
	switch (pk_on_hstack(trap_hit, &a)) {
	case TRAP_PASS_ON: pass_on(sig, si, ucv, 0); break;
	case TRAP_EMULATION_FAULT:
		for (i = 0; i < sizeof(fault); i++)
			((volatile char *)&fault)[i] = 0;
		fault.si_signo = SIGSEGV;
		fault.si_code = SEGV_MAPERR;
		fault.si_addr = (void *)a.fault_addr;
		pass_on(SIGSEGV, &fault, ucv, 1);
		break;
	}
}

/*
 * Called from pk_post_entry once the relocated instruction has run. Returns
 * non-zero when the slot can go back to the code itself (it then clears the
 * marker, its last instruction but the jump).
 */
int pk_post_dispatch(struct pk_site *site, struct pk_regs *regs)
{
	struct pk_thread *t = pk_thread_get();
	unsigned long next = site->addr + site->arch.insn.len, sp0 = regs->sp;
	int fast;

	pk_tsan_acquire(site);
	pk_thread_enter(t);
	regs->ip = next;
	pk_dispatch_post(site, regs, t);
	fast = regs->ip == next && pk_arch_fast_resume(regs, sp0);
	/* Only now: a remover waiting for this slot may free the site once it sees this. */
	if (!fast)
		pk_ool = 0;
	pk_tsan_release(site);
	pk_thread_exit(t);
	return fast;
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)g[REG_RIP];
	uint8_t *slot;
	struct pk_site *site = NULL;

	if (pc == (uintptr_t)pk_copy_nofault_insn) {
		g[REG_RIP] = (greg_t)pk_copy_nofault_fixup;
		return;
	}
	slot = pk_slot_base(pc);

	/* Only the displaced instruction itself is the program's; translate its faults. */
	if (slot && (pc == (uintptr_t)slot || pc == (uintptr_t)slot + PK_SLOT_POST))
		memcpy(&site, slot + PK_SLOT_LIT_SITE, sizeof(site));
	if (site) {
		struct pk_thread *t = pk_thread_get();
		struct pk_regs regs;

		pk_thread_enter(t);
		uc_to_regs(uc, &regs);
		regs.ip = site->addr;
		if (pk_dispatch_fault(site, &regs, sig, t)) {
			regs_to_uc(&regs, uc);
			pk_ool = 0;
			pk_thread_exit(t);
			return;
		}
		/* The program sees the fault where it would have happened unprobed. */
		g[REG_RIP] = (greg_t)site->addr;
		/* For these two the kernel reports the instruction's address. */
		if ((sig == SIGFPE || sig == SIGILL) && (uintptr_t)si->si_addr == pc)
			si->si_addr = (void *)site->addr;
		pk_ool = 0;
		pk_thread_exit(t);
	}
	pass_on(sig, si, uc, 0);
}

static void install_handlers(void)
{
	struct sigaction sa;
	size_t i;

	for (i = 0; i < sizeof(trap_signals) / sizeof(trap_signals[0]); i++) {
		int sig = trap_signals[i];

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sig == SIGTRAP ? on_sigtrap : on_fault;
		/*
		 * Asynchronous signals wait until the handler is done, so that
		 * the program's handlers never see our intermediate state; the
		 * synchronous ones stay open: a fault or a probe hit inside a
		 * handler must be delivered, not turned fatal by the kernel.
		 */
		sigfillset(&sa.sa_mask);
		sigdelset(&sa.sa_mask, SIGTRAP);
		sigdelset(&sa.sa_mask, SIGSEGV);
		sigdelset(&sa.sa_mask, SIGBUS);
		sigdelset(&sa.sa_mask, SIGFPE);
		sigdelset(&sa.sa_mask, SIGILL);
		/* A Go program's goroutine stacks are too small for a trap's frame (golang.c). */
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER |
			      (sig != SIGTRAP || pk_is_go_program() ? SA_ONSTACK : 0);
		sigaction(sig, &sa, &prev_act[sig]);
	}
	__atomic_store_n(&handlers_installed, 1, __ATOMIC_RELEASE);
}

static void atfork_child(void)
{
	owner_pid = pk_sys(SYS_getpid, 0, 0, 0);
}

static unsigned long xsave_size(void)
{
	unsigned int a, b, c, d;

	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
	return (b + 63) & ~63UL;
}

int arch_init(void)
{
	static int atfork_done;

	pk_xsave_size = xsave_size();
	owner_pid = pk_sys(SYS_getpid, 0, 0, 0);
	if (!atfork_done)
		pthread_atfork(NULL, NULL, atfork_child);
	atfork_done = 1;
	/* Still there after a release that gave up half way: prev_act must stay the program's. */
	if (!__atomic_load_n(&handlers_installed, __ATOMIC_ACQUIRE))
		install_handlers();
	return 0;
}

static int is_trap_signal(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(trap_signals) / sizeof(trap_signals[0]); i++)
		if (trap_signals[i] == sig)
			return 1;
	return 0;
}

/*
 * The program's sigaction() for a signal the engine needs: record its
 * handler as the one to pass non-probe signals on to, answer with the one
 * it had set, and keep ours installed. Without this a program that sets a
 * SIGTRAP or SIGSEGV handler after the first probe would take our traps.
 * Anything odd (bad pointers) goes to the real sigaction to report.
 * A vfork child (python's subprocess resets its handlers there) shares
 * prev_act with its parent: it is answered, but its handlers are not
 * recorded, or the parent would lose its own (faulthandler's SIGSEGV).
 */
static int sigaction_guard(struct pk_probe *p, struct pk_regs *r)
{
	int sig = (int)r->di;
	struct sigaction nact = {0}, old;

	(void)p;
	if (!is_trap_signal(sig))
		return 0;
	if (r->si && pk_read_nofault(&nact, (const void *)r->si, sizeof(nact)))
		return 0;
	old = prev_act[sig];
	if (r->dx && pk_write_nofault((void *)r->dx, &old, sizeof(old)))
		return 0;
	if (r->si && pk_sys(SYS_getpid, 0, 0, 0) == owner_pid)
		prev_act[sig] = nact;
	pk_regs_set_return_value(r, 0);
	pk_override_function_return(r);
	return 1;
}

static __thread sigset_t mask_copy PK_IE;

/*
 * The program's pthread_sigmask() (sigprocmask() goes through it too): an
 * int3 hit (or a fault) while its signal is blocked makes the kernel reset
 * the handler and kill the process, so blocking those is quietly left out. The set may be
 * read-only: the call is pointed at a per-thread copy instead.
 */
static int sigmask_guard(struct pk_probe *p, struct pk_regs *r)
{
	int how = (int)r->di;

	(void)p;
	if (!r->si || (how != SIG_BLOCK && how != SIG_SETMASK))
		return 0;
	if (pk_read_nofault(&mask_copy, (const void *)r->si, sizeof(mask_copy)))
		return 0;
	if (!sigismember(&mask_copy, SIGTRAP) && !sigismember(&mask_copy, SIGSEGV) &&
	    !sigismember(&mask_copy, SIGBUS))
		return 0;
	/* SIGSEGV and SIGBUS too: pk_read_nofault() relies on catching them. */
	sigdelset(&mask_copy, SIGTRAP);
	sigdelset(&mask_copy, SIGSEGV);
	sigdelset(&mask_copy, SIGBUS);
	r->si = (uintptr_t)&mask_copy;
	return 0;
}

static struct pk_probe guard_probes[] = {
    {.symbol_name = "libc.so.6:sigaction",
     .pre_handler = sigaction_guard,
     .pk_priv.owner = PK_OWNER_INTERNAL},
    {.symbol_name = "libc.so.6:pthread_sigmask",
     .pre_handler = sigmask_guard,
     .pk_priv.owner = PK_OWNER_INTERNAL},
};

void arch_init_late(void)
{
	size_t i;

	/* A static program has no libc.so.6 to guard; its handlers must come first. */
	for (i = 0; i < sizeof(guard_probes) / sizeof(guard_probes[0]); i++)
		pk_register_locked(&guard_probes[i]);
	pk_spawn_init_late();
}

/*
 * The engine is being unloaded: hand the signals back to the program's
 * handlers (the latest it asked for, through the sigaction guard, which is
 * gone by now) and stop using the fault-catching copy.
 */
void arch_release(void)
{
	size_t i;

	if (!__atomic_load_n(&handlers_installed, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&handlers_installed, 0, __ATOMIC_RELEASE);
	for (i = 0; i < sizeof(trap_signals) / sizeof(trap_signals[0]); i++)
		sigaction(trap_signals[i], &prev_act[trap_signals[i]], NULL);
}

uintptr_t arch_rethook_trampoline(void)
{
	return (uintptr_t)pk_rethook_trampoline;
}

int arch_insn_length(const uint8_t *buf, size_t avail)
{
	return pk_insn_length(buf, avail);
}

int arch_code_boundary(const uint8_t *code, size_t size, size_t offset)
{
	size_t pc = 0;

	while (pc < offset) {
		int len = pk_insn_length(code + pc, size - pc);

		if (len < 0)
			return -EILSEQ;
		pc += (size_t)len;
	}
	return pc == offset ? 0 : -EILSEQ;
}

/* Write the slot: plain entry (insn, leave-slot marker, jump back) and post entry. */
static int write_slot(struct pk_site *site, uint8_t *slot)
{
	uint8_t buf[PK_SLOT_SIZE], reloc[16];
	const struct pk_insn *insn = &site->arch.insn;
	uint64_t pc = (uintptr_t)slot, next = site->addr + insn->len;
	uint64_t lit_site = pc + PK_SLOT_LIT_SITE, lit_post = pc + PK_SLOT_LIT_POST;
	struct pk_writer w;
	int n;

	memset(buf, 0xcc, sizeof(buf));
	pk_writer_init(&w, buf, PK_SLOT_POST, pc);
	n = pk_insn_relocate(insn, reloc, pc);
	if (n < 0)
		return n;
	pk_writer_bytes(&w, reloc, (size_t)n);
	pk_writer_clear_fs(&w, pk_tls_ool_offset());
	pk_writer_jmp(&w, next);
	if (w.err)
		return w.err == -ENOSPC ? -EOPNOTSUPP : w.err;

	pk_writer_init(&w, buf + PK_SLOT_POST, PK_SLOT_LIT_SITE - PK_SLOT_POST, pc + PK_SLOT_POST);
	n = pk_insn_relocate(insn, reloc, pc + PK_SLOT_POST);
	if (n < 0)
		return n;
	pk_writer_bytes(&w, reloc, (size_t)n);
	/* Below the red zone: the code at the probe may keep data there. */
	pk_writer_lea_rsp(&w, -128);
	pk_writer_push_mem(&w, lit_site);
	pk_writer_call_mem(&w, lit_post);
	/* The fast exit returns here: drop the site word and the red zone, leave. */
	pk_writer_lea_rsp32(&w, 136);
	pk_writer_clear_fs(&w, pk_tls_ool_offset());
	pk_writer_jmp(&w, next);
	if (w.err)
		return w.err == -ENOSPC ? -EOPNOTSUPP : w.err;

	pk_writer_init(&w, buf + PK_SLOT_LIT_SITE, 16, lit_site);
	pk_writer_u64(&w, (uintptr_t)site);
	pk_writer_u64(&w, (uintptr_t)pk_post_entry);
	/* Unused until the probe is jump-optimized; in the same write, it costs nothing then. */
	if (!arch_detour_image(buf + PK_SLOT_DETOUR, slot, 1))
		site->arch.dslot = slot;
	return pk_text_poke(slot, buf, sizeof(buf));
}

static int read_insn(uintptr_t addr, uint8_t *buf, size_t *n)
{
	/* Near the end of a mapping fewer than 16 bytes may be readable. */
	while (*n && pk_read_orig(addr, buf, *n))
		(*n)--;
	return *n ? 0 : -EFAULT;
}

int arch_can_probe(uintptr_t addr)
{
	struct pk_insn insn;
	uint8_t buf[16];
	size_t n = sizeof(buf);
	int err = read_insn(addr, buf, &n);

	return err ? err : pk_insn_decode(buf, n, addr, &insn);
}

int arch_prepare_probe(struct pk_site *site)
{
	uint8_t buf[16];
	size_t n = sizeof(buf);
	int err = read_insn(site->addr, buf, &n);

	if (err)
		return err;
	err = pk_insn_decode(buf, n, site->addr, &site->arch.insn);
	if (err)
		return err;
	if (site->arch.insn.kind != PK_INSN_RELOC)
		return 0;
	site->arch.slot = pk_slot_alloc(
	    site->addr, site->arch.insn.disp_off ? site->arch.insn.target : site->addr, &err);
	if (!site->arch.slot)
		return err;
	err = write_slot(site, site->arch.slot);
	if (err) {
		pk_slot_free(site->arch.slot);
		site->arch.slot = NULL;
		site->arch.dslot = NULL;
	}
	return err;
}

int arch_arm_probe(struct pk_site *site)
{
	static const uint8_t int3 = INT3;

	return pk_text_poke((void *)site->addr, &int3, 1);
}

int arch_disarm_probe(struct pk_site *site)
{
	uint8_t cur;

	/* Unmapped, or remapped with other code (dlclose/dlopen): not ours to restore. */
	if (pk_read_nofault(&cur, (const void *)site->addr, 1) || cur != INT3)
		return 0;
	return pk_text_poke((void *)site->addr, site->arch.insn.bytes, 1);
}

const uint8_t *arch_orig_bytes(const struct pk_site *site)
{
	return site->arch.insn.bytes;
}

/*
 * The site struct itself is freed after a grace period: a thread that took
 * its jump may still read it, slot pointers included, so they stay as they are.
 */
void arch_remove_probe(struct pk_site *site)
{
	pk_opt_arch_free(site);
	if (site->arch.slot)
		pk_slot_free(site->arch.slot);
}
