/* SPDX-License-Identifier: MIT */
/*
 * The architecture contract: everything generic code needs to know about an
 * instruction set and its calling convention, asked through these hooks
 * (the kernel's arch_* functions, instruction_pointer(), regs_get_kernel_
 * argument(), regs_query_register_offset() ...). Generic code includes this
 * header and never names a register, an instruction or an ABI rule; the
 * build compiles src/arch/$(ARCH)/, which implements every hook here:
 *
 *   arch_hooks.h   the inline hooks and the constants below (register
 *                  accessors, return-address frames, thread pointer, reach)
 *   arch_site.h    struct pk_arch_site, the arch's part of a probed site
 *   arch_ptrace.h  register access of another process (the attach side)
 *   *.c, *.S       the functions declared here
 *
 * Each arch_hooks.h defines these constants:
 *
 *   ARCH_NAME            the architecture's name in messages ("x86-64")
 *   ARCH_TRAP_NAME       what a probe that is not optimized is ("int3")
 *   ARCH_TRAP_LABEL      its tag in the probe list ("INT3", as "[INT3: why]")
 *   ARCH_ELF_MACHINE     e_machine of the programs it probes (EM_*)
 *   ARCH_MULTIARCH       Debian's multiarch triplet: where its libraries live
 *   ARCH_SLOT_REACH      how far an out-of-line slot may lie from the code
 *                        it serves, either way, so that the slot's branch
 *                        back and relocated PC-relative operands reach
 *   ARCH_USER_TOP        the end of the user address space
 *   ARCH_OPT_STEPS       the steps of arch_optimize_step()
 *   ARCH_OPT_READ_BEHIND how far before an address a planted trap or jump
 *                        can start and still cover it
 *   ARCH_INJECT_MAX_ARGS arguments an injected call passes in registers
 */
#ifndef PK_ARCH_H
#define PK_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "probekit.h"

struct pk_site;
struct pk_jframe;

/* Registers (arch_hooks.h, inline: every hit of the tracer runs them). */

/**
 * arch_regs_ip() - the instruction pointer in @regs (instruction_pointer()).
 * @regs: registers at a probe.
 */
static inline unsigned long arch_regs_ip(const struct pk_regs *regs);

/**
 * arch_regs_set_ip() - where execution resumes (instruction_pointer_set()).
 * @regs: registers at a probe.
 * @ip: the new instruction pointer.
 */
static inline void arch_regs_set_ip(struct pk_regs *regs, unsigned long ip);

/**
 * arch_regs_sp() - the stack pointer in @regs (user_stack_pointer()).
 * @regs: registers at a probe.
 */
static inline unsigned long arch_regs_sp(const struct pk_regs *regs);

/**
 * arch_regs_fp() - the frame pointer in @regs (frame_pointer()).
 * @regs: registers at a probe.
 *
 * Where frame pointers are kept, it addresses two words: the caller's
 * frame pointer, then the return address (both x86-64's %rbp and arm64's
 * x29 frames have that shape), which user stack walks follow.
 */
static inline unsigned long arch_regs_fp(const struct pk_regs *regs);

/**
 * arch_regs_return_value() - the integer return value (regs_return_value()).
 * @regs: registers where a function has just returned.
 */
static inline unsigned long arch_regs_return_value(const struct pk_regs *regs);

/**
 * arch_regs_set_return_value() - set the integer return value.
 * @regs: registers at a function's entry or return.
 * @rc: the value.
 */
static inline void arch_regs_set_return_value(struct pk_regs *regs, unsigned long rc);

/**
 * arch_regs_get_argument() - the @n-th integer argument (from 0) at entry.
 * @regs: registers at a function's first instruction.
 * @n: argument number: the ABI's argument registers first, then the stack.
 * @val: the value.
 *
 * The kernel's regs_get_kernel_argument(), stack arguments included.
 * Return: 0, or -EFAULT if a stack argument cannot be read (*@val is 0).
 */
static inline int arch_regs_get_argument(const struct pk_regs *regs, unsigned int n,
					 unsigned long *val);

/**
 * arch_regs_return_to_caller() - make @regs return from the function at once.
 * @regs: registers at a function's first instruction.
 *
 * The kernel's override_function_with_return(): the caller resumes with
 * the stack as it was before the call.
 * Return: 0, or -EFAULT if the return address cannot be read.
 */
static inline int arch_regs_return_to_caller(struct pk_regs *regs);

/**
 * arch_regs_query_register() - a register of the definition language.
 * @name: a name after '%': the kernel's pt_regs names, and the assembler's.
 * @idx: the register's word index in struct pk_regs.
 * @width: bytes that name reads (8, or 4 for a 32-bit half).
 *
 * The kernel's regs_query_register_offset(), for probekit trace's %REG.
 * Return: 0, or -EINVAL for a name the architecture does not have.
 */
int arch_regs_query_register(const char *name, unsigned int *idx, unsigned int *width);

/**
 * arch_dwarf_reg_name() - the definition language's name of a DWARF register.
 * @regno: a DWARF register number (DW_OP_reg*, DW_OP_breg*, DW_OP_regx).
 *
 * For turning debug information's locations into fetch arguments (perf
 * probe's language): the name to write after '%'.
 * Return: the name, or NULL for a register no fetch argument can read.
 */
const char *arch_dwarf_reg_name(unsigned int regno);

/* Return-address hooking (return probes; arch_hooks.h, inline). */

/**
 * arch_rethook_frame() - the key of the call that @regs is the entry of.
 * @regs: registers at a function's first instruction.
 *
 * Keys order as stacks grow: a frame called from a live one has a smaller
 * key. arch_rethook_frame_returned() gives the same key on return.
 */
static inline unsigned long arch_rethook_frame(const struct pk_regs *regs);

/**
 * arch_rethook_entry_slot() - where the return address is at entry.
 * @regs: registers at a function's first instruction.
 *
 * Return: a writable word holding it (on the stack, or in @regs for an
 * architecture with a link register); writing the trampoline's address
 * there hooks the return.
 */
static inline unsigned long *arch_rethook_entry_slot(struct pk_regs *regs);

/**
 * arch_rethook_frame_returned() - the frame key of the call that returned.
 * @regs: registers as the return trampoline saved them.
 */
static inline unsigned long arch_rethook_frame_returned(const struct pk_regs *regs);

/**
 * arch_rethook_slot() - where @frame's return address is while it runs.
 * @frame: a key from arch_rethook_frame().
 *
 * Return: the stack word, or NULL where the architecture keeps it in a
 * register that the function saves wherever it likes: unwinders and stale
 * frames then cannot be checked through it.
 */
static inline unsigned long *arch_rethook_slot(unsigned long frame);

/**
 * arch_rethook_trampoline() - the address hooked returns go to.
 *
 * Return: the trampoline's first instruction; it saves a struct pk_regs and
 * calls pk_rethook_dispatch().
 */
uintptr_t arch_rethook_trampoline(void);

/**
 * arch_thread_pointer() - this thread's TLS base (inline, arch_hooks.h).
 *
 * Return: the thread pointer, against which initial-exec TLS offsets are
 * taken in generated code.
 */
static inline uintptr_t arch_thread_pointer(void);

/* The engine: traps, decode, relocation and emulation (trap.c and friends). */

/**
 * arch_init() - install the trap handlers.
 * Return: 0, or a negative errno from sigaction().
 */
int arch_init(void);

/**
 * arch_init_late() - after the registry works: internal probes (the sigaction guard). */
void arch_init_late(void);

/** arch_release() - give the signals back to the program's own handlers. */
void arch_release(void);

/**
 * arch_insn_length() - the length of the instruction at @buf.
 * @buf: code.
 * @avail: bytes readable at @buf.
 * Return: the length, or -EILSEQ.
 */
int arch_insn_length(const uint8_t *buf, size_t avail);

/**
 * arch_code_boundary() - whether @offset starts an instruction of code that is not running.
 * @code: @size bytes of a function from its first instruction (a file's bytes).
 * @size: bytes at @code.
 * @offset: the offset to check.
 * Return: 0, or -EILSEQ if it falls inside an instruction or the walk meets
 * bytes that do not decode.
 */
int arch_code_boundary(const uint8_t *code, size_t size, size_t offset);

/**
 * arch_func_exits() - where a function leaves: its return instructions and
 * tail jumps.
 * @code: the function's bytes, from its first instruction.
 * @size: how many.
 * @start: the address of @code[0].
 * @offs: filled with the exits' offsets from @start.
 * @max: room in @offs.
 *
 * For return probes that need no return-address swap (Go's copied stacks,
 * shadow stacks): a probe on each exit.
 * Return: the number of exits (more than @max: only @max were stored), or
 * -EILSEQ when the code does not decode from its start.
 */
int arch_func_exits(const uint8_t *code, size_t size, uintptr_t start, size_t *offs, size_t max);

/**
 * arch_prepare_probe() - decode the instruction at @site and write its slot.
 * @site: a new site.
 * Return: 0, -EFAULT, -EILSEQ, -EOPNOTSUPP (neither relocatable nor
 * emulated), -ERANGE (no slot within reach) or -ENOMEM.
 */
int arch_prepare_probe(struct pk_site *site);

/**
 * arch_can_probe() - whether the instruction at @addr can be relocated or emulated.
 * @addr: code.
 * Return: 0, -EOPNOTSUPP, -EILSEQ or -EFAULT.
 */
int arch_can_probe(uintptr_t addr);

/**
 * arch_arm_probe() - plant the trap at @site.
 * @site: a prepared site.
 * Return: 0 or the error of pk_text_poke().
 */
int arch_arm_probe(struct pk_site *site);

/**
 * arch_disarm_probe() - put the original bytes back, if our trap is still there.
 * @site: an armed site.
 * Return: 0 or the error of pk_text_poke().
 */
int arch_disarm_probe(struct pk_site *site);

/**
 * arch_remove_probe() - free what arch_prepare_probe() and optimizing allocated.
 * @site: a disarmed site.
 */
void arch_remove_probe(struct pk_site *site);

/**
 * arch_may_start_site() - whether @b can be the first byte of a planted trap or jump.
 * @b: a byte of code.
 */
int arch_may_start_site(uint8_t b);

/**
 * arch_orig_bytes() - the original bytes of the instruction at @site.
 * @site: a prepared site.
 * Return: at least arch_patched_len() bytes, as they were before any probe.
 */
const uint8_t *arch_orig_bytes(const struct pk_site *site);

/**
 * arch_patched_len() - bytes at @site that differ from the original now.
 * @site: a site, armed (trap) or optimized (jump) or neither.
 */
unsigned int arch_patched_len(const struct pk_site *site);

/* Jump optimization (detours; opt.c, vec.c). */

/**
 * arch_prepare_optimized() - plan @site's jump and write its detour.
 * @site: an armed site.
 * @why: the reason when it cannot be optimized.
 *
 * The steps, 0 to ARCH_OPT_STEPS-1, then write the code: each returns 1 if
 * it wrote something, 0 if it had nothing to do, and the caller syncs the
 * cores after every step that wrote for some site of the batch. Optimizing
 * starts from the trap in place and ends with the jump live; unoptimizing
 * starts by putting the trap back.
 * Return: 0, or a negative errno with the reason in *@why.
 */
int arch_prepare_optimized(struct pk_site *site, const char **why);

/**
 * arch_optimize_step() - step @step of putting @site's jump in place.
 * @site: a site arch_prepare_optimized() planned.
 * @step: 0 to ARCH_OPT_STEPS-1.
 * Return: 1 if it wrote code, 0 if not, or a negative errno.
 */
int arch_optimize_step(struct pk_site *site, int step);

/**
 * arch_unoptimize_step() - step @step of putting @site's trap back.
 * @site: an optimized site.
 * @step: 0 to ARCH_OPT_STEPS-1.
 * Return: 1 if it wrote code, 0 if not, or a negative errno.
 */
int arch_unoptimize_step(struct pk_site *site, int step);

/**
 * arch_opt_stale() - whether @site's planned jump goes to a detour that no longer fits its
 * handlers
 * @site: a site.
 */
int arch_opt_stale(const struct pk_site *site);

/**
 * arch_opt_reads() - whether @site's jump, in place, reads the byte at @addr.
 * @site: a site.
 * @addr: an address outside @site's own instruction.
 */
int arch_opt_reads(const struct pk_site *site, uintptr_t addr);

/**
 * arch_opt_check() - whether a probe at @addr, alone there, would be optimized.
 * @addr: code.
 * @why: the reason when not.
 * Return: 0, or a negative errno and *@why.
 */
int arch_opt_check(uintptr_t addr, const char **why);

/**
 * arch_forget_optimized() - drop @site's planned jump (a neighbour took the bytes it read); the
 * detour stays
 * @site: a site.
 */
void arch_forget_optimized(struct pk_site *site);

/**
 * arch_code_uses_vector() - whether code at @fn (and what it calls) may touch vector or FP state.
 * @fn: a handler's address.
 * Return: 1, or 0 when proven not (the detour then saves no such state).
 */
int arch_code_uses_vector(uintptr_t fn);

/* Jprobes (jprobe.c). */

/**
 * arch_jprobe_frame_size() - the size of a struct pk_jframe with the arch's part after it. */
size_t arch_jprobe_frame_size(void);

/**
 * arch_jprobe_divert() - make @regs enter f->entry with the function's arguments.
 * @f: the thread's frame, @regs saved in it.
 * @regs: registers at the function's first instruction.
 */
void arch_jprobe_divert(struct pk_jframe *f, struct pk_regs *regs);

/**
 * arch_jprobe_resume() - from pk_jprobe_return(): back to the function's entry as @f saved it.
 * @f: the frame.
 */
void arch_jprobe_resume(struct pk_jframe *f);

/* Processes and system calls. */

/**
 * arch_clone_vfork() - run @fn(@arg) in a child sharing our memory, as vfork.
 * @fn: the child's function; its return value is the child's exit status.
 * @arg: its argument.
 * @stack_top: the child's stack.
 * Return: the child's pid, or a negative errno.
 */
long arch_clone_vfork(int (*fn)(void *), void *arg, void *stack_top);

/**
 * pk_syscall6() - a raw system call (the trap path must not enter libc).
 * @nr: SYS_*.
 * @a: first argument; @b, @c, @d, @e, @f the others.
 * Return: the kernel's result, a negative errno on failure.
 */
long pk_syscall6(long nr, long a, long b, long c, long d, long e, long f);
#define pk_sys(nr, a, b, c) pk_syscall6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/*
 * Another process's registers, for attach (ptrace.c; the attach side only).
 * struct pk_uregs, defined in arch_ptrace.h, holds a stopped thread's
 * general registers as ptrace reads them.
 */
struct pk_uregs;

/**
 * arch_ptrace_getregs() - read the general registers of stopped thread @tid.
 * @tid: a thread this process traces, stopped.
 * @r: filled in.
 * Return: 0 or a negative ptrace errno.
 */
int arch_ptrace_getregs(int tid, struct pk_uregs *r);

/**
 * arch_ptrace_setregs() - write them back.
 * @tid: a thread this process traces, stopped.
 * @r: the registers.
 * Return: 0 or a negative ptrace errno.
 */
int arch_ptrace_setregs(int tid, const struct pk_uregs *r);

/**
 * arch_uregs_call_sp() - the stack pointer a call injected into @r may use.
 * @r: the thread's registers as it stopped.
 * @reserved: bytes below its red zone already taken (strings for the call).
 * Return: an address below them, aligned as at a call, before the return
 * address (if the architecture pushes one) is placed.
 */
unsigned long arch_uregs_call_sp(const struct pk_uregs *r, unsigned long reserved);

/**
 * arch_uregs_setup_call() - make @r call @fn(@args...) and return to address 0.
 * @r: the stopped thread's registers, changed.
 * @fn: the function.
 * @sp: from arch_uregs_call_sp().
 * @args: integer arguments, in the ABI's argument registers.
 * @nargs: at most ARCH_INJECT_MAX_ARGS.
 *
 * Return: where the zero return address must be written on the stack, or 0
 * where @r carries it (a link register). The call is no system call any
 * more: no restart logic applies to it.
 */
unsigned long arch_uregs_setup_call(struct pk_uregs *r, unsigned long fn, unsigned long sp,
				    const unsigned long *args, int nargs);

/**
 * arch_uregs_ip() - the instruction pointer in @r
 * @r: registers.
 */
unsigned long arch_uregs_ip(const struct pk_uregs *r);

/**
 * arch_uregs_return_value() - the integer return value in @r
 * @r: registers.
 */
unsigned long arch_uregs_return_value(const struct pk_uregs *r);

/**
 * arch_uregs_in_syscall() - whether the thread stopped inside a system call
 * @r: registers.
 */
int arch_uregs_in_syscall(const struct pk_uregs *r);

#include "arch_hooks.h"

#endif /* PK_ARCH_H */
