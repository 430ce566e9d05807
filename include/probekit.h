/* SPDX-License-Identifier: MIT */
/*
 * probekit: kprobes for user-space processes.
 *
 * The API mirrors the Linux kernel's <linux/kprobes.h>: a struct pk_probe is
 * a struct kprobe, pk_register_probe() is register_kprobe(), and so on, so
 * that code written for kernel kprobes ports line by line. Every function
 * returns 0 or a negative errno; each errno has one meaning:
 *
 *   -ENOENT     no such symbol (or object) in the process
 *   -EILSEQ     the offset is not on an instruction boundary
 *   -EINVAL     bad arguments, or the address is blacklisted
 *   -EFAULT     the address is not mapped executable text
 *   -EOPNOTSUPP the instruction can be neither relocated nor emulated
 *   -ERANGE     no out-of-line slot can be placed within reach of the code
 *   -EEXIST     the same structure is already registered
 *   -ENOMEM     out of memory
 *
 * The library never prints and never exits.
 */
#ifndef PROBEKIT_H
#define PROBEKIT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PK_API __attribute__((visibility("default")))

/* struct pk_regs: the registers at the probe, as the architecture names them. */
#include "probekit/arch.h"

struct pk_probe;
struct pk_retprobe;
struct pk_retprobe_instance;

typedef int (*pk_pre_handler_t)(struct pk_probe *, struct pk_regs *);
typedef void (*pk_post_handler_t)(struct pk_probe *, struct pk_regs *, unsigned long flags);
typedef int (*pk_fault_handler_t)(struct pk_probe *, struct pk_regs *, int signo);
typedef int (*pk_retprobe_handler_t)(struct pk_retprobe_instance *, struct pk_regs *);

/* Register the probe disarmed; pk_enable_probe() arms it. */
#define PK_FLAG_DISABLED 0x1u
/* Set by the library when the probe runs from a jump detour (read-only). */
#define PK_FLAG_OPTIMIZED 0x2u

struct pk_probe {
	/* "func" or "object:func"; exclusive with addr at registration. */
	const char *symbol_name;
	/* Byte offset from symbol_name; must be an instruction boundary. */
	unsigned int offset;
	/* The probed address; filled in when symbol_name was used. */
	void *addr;

	/*
	 * Runs before the probed instruction. Returning non-zero means the
	 * handler changed regs->ip: execution resumes there, without the
	 * probed instruction and without post handlers.
	 */
	pk_pre_handler_t pre_handler;
	/* Runs after the probed instruction, regs showing the state then. */
	pk_post_handler_t post_handler;
	/*
	 * Asked first when the probed instruction faults (signo is SIGSEGV,
	 * SIGBUS, SIGFPE or SIGILL). Return non-zero when the handler has set
	 * regs to where execution should resume; 0 passes the fault on to the
	 * program as if the code were not probed.
	 */
	pk_fault_handler_t fault_handler;

	/* Hits that ran no handler because they came from inside a handler. */
	unsigned long nmissed;
	/* PK_FLAG_*. */
	unsigned int flags;

	/* Private to the library. */
	struct {
		struct pk_probe *next;
		void *site;
		unsigned int state;
		unsigned int pad;
		void *owner;
	} pk_priv;
};

/*
 * A return probe. kp names the function (offset 0 only); kp.pre_handler is
 * set by the library. handler runs when the function returns;
 * entry_handler, if set, runs at entry and returning non-zero hooks no return
 * for that call. Each instance carries data_size bytes for the handlers.
 */
struct pk_retprobe {
	struct pk_probe kp;
	pk_retprobe_handler_t handler;
	pk_retprobe_handler_t entry_handler;
	/*
	 * Calls that can be tracked at once (the kernel's meaning); 0: as many
	 * as needed, the pool growing on demand up to 65,536 (or 256 MiB).
	 */
	int maxactive;
	size_t data_size;
	/* Returns not tracked because no instance was free. */
	unsigned long nmissed;

	/* Private to the library. */
	struct {
		void *pool;
	} pk_priv;
};

struct pk_retprobe_instance {
	struct pk_retprobe *rp;
	/* Where the function returns to. */
	void *ret_addr;
	/* Private to the library. */
	struct pk_retprobe_instance *pk_next;
	unsigned long pk_sp;
	void *pk_pool;
	unsigned char data[] __attribute__((aligned(16)));
};

/**
 * pk_register_probe() - plant a probe.
 * @p: the probe; symbol_name or addr, and at least one handler.
 *
 * Return: 0, or -EINVAL (both or neither of symbol_name and addr, no handler,
 * bad flags, blacklisted address), -ENOENT (unknown symbol or object),
 * -EILSEQ (offset not on an instruction boundary), -EFAULT (not executable
 * text), -EOPNOTSUPP (instruction can be neither relocated nor emulated),
 * -ERANGE (no slot within reach), -EEXIST (@p already registered), -ENOMEM.
 */
PK_API int pk_register_probe(struct pk_probe *p);

/**
 * pk_unregister_probe() - remove a probe.
 * @p: a registered probe.
 *
 * Returns only when no thread can still be running @p's handlers or its
 * out-of-line code, so the caller may then free @p. Unregistering a probe
 * that is not registered does nothing.
 */
PK_API void pk_unregister_probe(struct pk_probe *p);

/**
 * pk_register_probes() - register @num probes, all or none.
 * @ps: array of probe pointers.
 * @num: number of entries.
 *
 * Return: 0, or the error of the first probe that failed (see
 * pk_register_probe()); the probes registered before it are unregistered.
 * -EINVAL if @ps is NULL or @num is not positive.
 */
PK_API int pk_register_probes(struct pk_probe **ps, int num);

/**
 * pk_unregister_probes() - unregister @num probes with a single wait.
 * @ps: array of probe pointers.
 * @num: number of entries.
 */
PK_API void pk_unregister_probes(struct pk_probe **ps, int num);

/**
 * pk_disable_probe() - disarm a probe temporarily.
 * @p: a registered probe.
 *
 * Return: 0, or -EINVAL if @p is not registered.
 */
PK_API int pk_disable_probe(struct pk_probe *p);

/**
 * pk_enable_probe() - re-arm a disabled probe.
 * @p: a registered probe.
 *
 * Return: 0, or -EINVAL if @p is not registered.
 */
PK_API int pk_enable_probe(struct pk_probe *p);

/**
 * pk_register_retprobe() - plant a return probe.
 * @rp: the return probe; rp->kp names the function entry.
 *
 * Return: the errors of pk_register_probe(), and -EINVAL also when the
 * offset is not 0, no handler is set, maxactive is negative, or data_size is
 * above 64 KiB.
 */
PK_API int pk_register_retprobe(struct pk_retprobe *rp);

/**
 * pk_unregister_retprobe() - remove a return probe.
 * @rp: a registered return probe.
 *
 * Returns when no thread can still run @rp's handlers. Calls still in
 * flight return to their callers normally without running a handler.
 */
PK_API void pk_unregister_retprobe(struct pk_retprobe *rp);

/**
 * pk_register_retprobes() - register @num return probes, all or none.
 * @rps: array of pointers.
 * @num: number of entries.
 *
 * Return: 0 or the first error, as pk_register_probes().
 */
PK_API int pk_register_retprobes(struct pk_retprobe **rps, int num);

/**
 * pk_unregister_retprobes() - unregister @num return probes.
 * @rps: array of pointers.
 * @num: number of entries.
 */
PK_API void pk_unregister_retprobes(struct pk_retprobe **rps, int num);

/**
 * pk_disable_retprobe() - disarm a return probe's entry.
 * @rp: a registered return probe.
 *
 * Return: 0, or -EINVAL if @rp is not registered.
 */
PK_API int pk_disable_retprobe(struct pk_retprobe *rp);

/**
 * pk_enable_retprobe() - re-arm a disabled return probe.
 * @rp: a registered return probe.
 *
 * Return: 0, or -EINVAL if @rp is not registered.
 */
PK_API int pk_enable_retprobe(struct pk_retprobe *rp);

/*
 * A jprobe (Linux <= 4.14): @entry has the probed function's own prototype
 * and is called at the function's entry with the very arguments the function
 * received (integer, floating-point, vector, struct-by-value, stack and
 * variadic ones), on a copy of the caller's stack arguments (the first
 * PK_JPROBE_STACK_COPY bytes above the return address). It must end with
 * pk_jprobe_return(); the function then runs untouched, with its original
 * registers and stack. jp->kp names the function (offset 0 only); its
 * pre_handler is the library's.
 */
struct pk_jprobe {
	struct pk_probe kp;
	void *entry;
};

/* Bytes of the caller's stack (return address included) that @entry sees copied. */
#define PK_JPROBE_STACK_COPY 128

/**
 * pk_register_jprobe() - call @jp->entry at every entry of a function.
 * @jp: the jprobe; kp.symbol_name or kp.addr names the function, entry is set.
 *
 * The jprobe runs after the other probes on the same function. A hit while
 * the same thread is still inside a jprobe's entry (recursion, or a signal
 * handler) runs no entry and counts kp.nmissed.
 *
 * Return: the errors of pk_register_probe(), and -EINVAL also when entry is
 * NULL, kp has handlers set, or the address is not the first instruction of a
 * function (a non-zero offset, or an address inside a symbol); -EBUSY when
 * another jprobe is registered on that function.
 */
PK_API int pk_register_jprobe(struct pk_jprobe *jp);

/**
 * pk_unregister_jprobe() - remove a jprobe.
 * @jp: a registered jprobe.
 *
 * Returns only once no thread is inside @jp->entry or on its way back to the
 * function; do not call it from an entry handler.
 */
PK_API void pk_unregister_jprobe(struct pk_jprobe *jp);

/**
 * pk_register_jprobes() - register @num jprobes, all or none.
 * @jps: array of pointers.
 * @num: number of entries.
 *
 * Return: 0 or the first error, as pk_register_probes().
 */
PK_API int pk_register_jprobes(struct pk_jprobe **jps, int num);

/**
 * pk_unregister_jprobes() - unregister @num jprobes.
 * @jps: array of pointers.
 * @num: number of entries.
 */
PK_API void pk_unregister_jprobes(struct pk_jprobe **jps, int num);

/**
 * pk_jprobe_return() - leave a jprobe entry handler.
 *
 * The last call of every entry handler: the registers (vector state
 * included) and stack go back to what they were at the function's entry and
 * the function runs. Does not return. Outside an entry handler it returns at
 * once and does nothing.
 */
PK_API void pk_jprobe_return(void);

struct pk_uprobe_consumer;

/*
 * A consumer of a uprobe, the kernel's struct uprobe_consumer: the probe is
 * on a byte offset of a file, in every mapping of that file in this process.
 */
struct pk_uprobe_consumer {
	/* At the probed instruction, before it runs; return 0. */
	int (*handler)(struct pk_uprobe_consumer *self, struct pk_regs *regs);
	/*
	 * When the function (the offset must be its entry) returns; @func is
	 * the probed address in the mapping that was hit.
	 */
	int (*ret_handler)(struct pk_uprobe_consumer *self, unsigned long func,
			   struct pk_regs *regs);
	/* Private to the library. */
	struct pk_uprobe_consumer *next;
};

/**
 * pk_register_uprobe() - add a consumer to the probe at @offset of @path.
 * @path: a program or shared object; a symlink or another name of the same
 *        file (the same device and inode) is the same probe.
 * @offset: a file offset, as uprobe_events' PATH:OFFSET.
 * @uc: the consumer; handler, ret_handler or both.
 *
 * The probe is armed in every mapping of the file now, in those the program
 * maps later with dlopen(), and disarmed when it is unmapped with dlclose().
 * Several consumers may share one offset; they run in registration order.
 *
 * Return: 0; -ENOENT (no such file, or the -errno of stat() on @path),
 * -EFAULT (@offset is not in an executable segment of the file), -EILSEQ
 * (not on an instruction boundary, checked in a current mapping), -EINVAL
 * (NULL @path or @uc, no handler), -EEXIST (@uc already registered), -ENOMEM,
 * or another error of pk_register_probe() from arming a current mapping.
 */
PK_API int pk_register_uprobe(const char *path, unsigned long offset,
			      struct pk_uprobe_consumer *uc);

/**
 * pk_unregister_uprobe() - remove a consumer.
 * @path: as given to pk_register_uprobe() (or another name of the file).
 * @offset: as given.
 * @uc: the consumer.
 *
 * Returns when no thread can still run @uc's handlers. Does nothing if @uc
 * is not registered there.
 */
PK_API void pk_unregister_uprobe(const char *path, unsigned long offset,
				 struct pk_uprobe_consumer *uc);

/**
 * pk_regs_get_argument() - the @n-th argument (from 0) at function entry.
 * @regs: registers at a function's first instruction.
 * @n: argument number: the ABI's argument registers first (6 on x86-64,
 *     8 on arm64), then the stack.
 *
 * Return: the argument's value, or 0 if a stack argument cannot be read.
 */
PK_API unsigned long pk_regs_get_argument(const struct pk_regs *regs, unsigned int n);

/** pk_regs_return_value() - the return value register. @regs: registers. */
PK_API unsigned long pk_regs_return_value(const struct pk_regs *regs);

/**
 * pk_regs_set_return_value() - set the return value register.
 * @regs: registers.
 * @rc: the value.
 */
PK_API void pk_regs_set_return_value(struct pk_regs *regs, unsigned long rc);

/**
 * pk_override_function_return() - return from the function at once.
 * @regs: registers at a function's first instruction.
 *
 * For fault injection: set the return value, call this, and return 1 from
 * the pre_handler; the function does not run and its caller sees the value.
 */
PK_API void pk_override_function_return(struct pk_regs *regs);

/**
 * pk_lookup_name() - address of a symbol, like kallsyms_lookup_name().
 * @name: "func" or "object:func" (object by file name, soname, or the file
 *        name up to its first '.', e.g. "libz").
 *
 * IFUNC symbols resolve to the implementation the program's calls reach.
 * Return: the address, or NULL if there is no such symbol.
 */
PK_API void *pk_lookup_name(const char *name);

/**
 * pk_sprint_symbol() - format @addr as the kernel's %pS does.
 * @buf: output buffer.
 * @size: its size.
 * @addr: any address.
 *
 * Writes "func+0x1c/0x5a0 [object]" (no [object] for the executable), or
 * "0x7f..." if no symbol covers @addr. Safe to call from handlers.
 * Return: the length of the full text, as snprintf().
 */
PK_API int pk_sprint_symbol(char *buf, size_t size, const void *addr);

/**
 * pk_read_nofault() - copy memory that may not be mapped.
 * @dst: destination.
 * @src: source in this process.
 * @n: bytes.
 *
 * Return: 0, or -EFAULT if any byte of @src cannot be read.
 */
PK_API int pk_read_nofault(void *dst, const void *src, size_t n);

/**
 * pk_show_probes() - the registered probes, as /sys/kernel/debug/kprobes/list.
 * @buf: output buffer.
 * @size: its size.
 *
 * One line per probe: address, "k" or "r", sym+off [object], then
 * "[DISABLED]" where it applies, and "[OPTIMIZED]" for a probe that runs
 * from a jump, or "[INT3: reason]" for one that stays a breakpoint.
 * Return: the length of the full text, as snprintf().
 */
PK_API int pk_show_probes(char *buf, size_t size);

/**
 * pk_set_optimization() - turn jump optimization on or off for the process.
 * @enable: non-zero to let probes run from a jump, 0 for int3 probes only.
 *
 * As the kernel's debug.kprobes-optimization: off puts every optimized
 * probe back to an int3 (probes registered meanwhile stay int3); on
 * optimizes every probe that can be. PK_OPTIMIZE=0 in the environment
 * starts the process with it off. PK_FLAG_OPTIMIZED in a probe's flags
 * tells whether that probe is optimized now.
 *
 * Return: the previous setting, 0 or 1.
 */
PK_API int pk_set_optimization(int enable);

/**
 * pk_show_blacklist() - address ranges that cannot be probed, and why.
 * @buf: output buffer.
 * @size: its size.
 *
 * One line per range, as /sys/kernel/debug/kprobes/blacklist:
 * "0xSTART-0xEND\tNAME".
 * Return: the length of the full text, as snprintf().
 */
PK_API int pk_show_blacklist(char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* PROBEKIT_H */
