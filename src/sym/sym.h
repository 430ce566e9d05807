/* SPDX-License-Identifier: MIT */
/*
 * Symbols of every object mapped in this process: the executable, shared
 * objects (also those dlopen()ed later) and the vDSO, from .symtab and
 * .dynsym (and from a separate debug file found by build-id, when one is
 * installed under /usr/lib/debug/.build-id).
 *
 * The tables are built lazily and published as an immutable snapshot, so the
 * address-to-symbol side (pk_sym_find, pk_sym_sprint) takes no lock and
 * allocates nothing: probe handlers may call it. The name-to-address side and
 * pk_sym_refresh allocate and lock, and are for registration paths only.
 */
#ifndef PK_SYM_H
#define PK_SYM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pk_sym_info {
	uintptr_t start;    /* run-time address of the symbol */
	size_t size;	    /* 0 when the symbol table gives none */
	const char *name;   /* valid for the life of the process */
	const char *object; /* file name (basename) of the object */
	const char *path;   /* full path of the object */
	int is_exe;	    /* the object is the main executable */
};

/*
 * Rescan the loaded objects if any were loaded or unloaded since the last
 * scan (dl_iterate_phdr's adds/subs counters). Returns 0 or -ENOMEM.
 */
int pk_sym_refresh(void);

/*
 * Resolve "func" or "object:func" (a data object too, for @SYM fetch
 * arguments). The executable is searched first, then
 * the objects in load order. "object" matches the file's basename, its
 * DT_SONAME, its full path, or the basename up to its first '.' ("libz").
 * Among several definitions of one name in an object the default symbol
 * version wins. An IFUNC resolves to the implementation the program's calls
 * reach (as dlsym() does); @out then describes the implementation (size 0 if
 * no symbol covers it).
 * Returns 0, -ENOENT (no such object or symbol), -EINVAL (malformed spec).
 */
int pk_sym_lookup(const char *spec, struct pk_sym_info *out);

/*
 * The symbol that contains @addr (start <= addr < start + size, or
 * for size-less symbols the nearest one below @addr in the same section of
 * code, or executable segment when the file has no section headers).
 * Lock-free and allocation-free.
 * Returns 0 or -ENOENT.
 */
int pk_sym_find(uintptr_t addr, struct pk_sym_info *out);

/* Code that starts on an instruction boundary: where a boundary walk begins. */
struct pk_code_range {
	uintptr_t start;
	uintptr_t end;
	/* Non-zero: every start + k * stride starts an instruction too (PLT entries). */
	size_t stride;
};

/**
 * pk_sym_code_range() - where to decode from to know whether @addr starts an
 * instruction.
 * @addr: an address in executable text of a loaded object.
 * @r: set to the range that contains @addr: the innermost sized symbol that
 *     covers it; a size-less symbol (assembly without .size) to the end of
 *     its section; a PLT section (.plt, .plt.sec, .plt.got, .iplt), with its
 *     entry size as stride; or, for code no symbol names, from the end of the
 *     last symbol below (or the section's start) to the next symbol.
 *
 * Lock-free and allocation-free, on the current snapshot (pk_sym_refresh()).
 * Return: 0, or -ENOENT if @addr is in no executable segment of a known object.
 */
int pk_sym_code_range(uintptr_t addr, struct pk_code_range *r);

/*
 * Changes whenever a refresh found objects loaded or unloaded: code at an
 * address may have changed since.
 */
unsigned long pk_sym_generation(void);

/*
 * Format @addr as the kernel's %pS: "func+0x1c/0x5a0 [libz.so.1]", without
 * the bracket for the executable, or "0x7f12..." when no symbol covers it.
 * Lock-free and allocation-free. Returns the length of the full text, as
 * snprintf().
 */
int pk_sym_sprint(char *buf, size_t size, uintptr_t addr);

/*
 * Call @fn for each function symbol (FUNC and resolved IFUNC, size > 0) of
 * the object matching @object (as in pk_sym_lookup), in address order. Stops
 * early and returns what @fn returned if that is non-zero.
 * Returns 0, -ENOENT (no such object), or @fn's non-zero value.
 */
int pk_sym_foreach(const char *object, int (*fn)(const struct pk_sym_info *, void *), void *arg);

/*
 * Format @addr as pk_sym_sprint() does, with @sym describing the symbol
 * that covers it (NULL: no symbol, hex). Lock-free and allocation-free.
 */
int pk_sym_format(char *buf, size_t size, uintptr_t addr, const struct pk_sym_info *sym);

/*
 * Symbols of another process, for a tracer printing what was recorded
 * there: the objects its /proc/PID/maps shows, their tables built from the
 * files (not signal-safe; allocates).
 */
struct pk_sym_proc;
/* Returns NULL if the maps cannot be read (the process is gone). */
struct pk_sym_proc *pk_sym_proc_open(pid_t pid);
/*
 * The same, reading only the object whose file name is @object (NULL: all),
 * now and on later refreshes until pk_sym_proc_only() says otherwise: a
 * large program's tables take milliseconds to read.
 */
struct pk_sym_proc *pk_sym_proc_open_only(pid_t pid, const char *object);
void pk_sym_proc_only(struct pk_sym_proc *p, const char *object);
/* Re-read the maps, for objects loaded since (dlopen). Returns 0 or -errno. */
int pk_sym_proc_refresh(struct pk_sym_proc *p);
/* As pk_sym_sprint(), in that process. */
int pk_sym_proc_sprint(struct pk_sym_proc *p, char *buf, size_t size, uintptr_t addr);
void pk_sym_proc_close(struct pk_sym_proc *p);
/*
 * The address of function @name of @object (file name or soname) in that
 * process. Return: 0, or -ENOENT.
 */
int pk_sym_proc_lookup(struct pk_sym_proc *p, const char *object, const char *name,
		       uintptr_t *addr);

/**
 * pk_sym_file_offset() - where a function of an ELF file starts, in the file.
 * @path: a program or shared object, loaded nowhere.
 * @name: a function symbol of it (.symtab, .dynsym or its build-id debug
 *        file; among versions the default one, global before weak before local).
 * @offset: set to the file offset of the function's first byte (what the
 *          kernel's uprobe_events takes as PATH:OFFSET).
 * @size: if not NULL, set to the function's size (0 when the table gives none).
 *
 * Return: 0; -ENOENT if no function has that name (a data object does not
 * count); -EOPNOTSUPP for an IFUNC (its implementation is chosen when the
 * program runs); -ENOEXEC if @path is not ELF or the symbol lies in no
 * loaded segment; -EINVAL for a NULL or empty argument; -ENOMEM; or the
 * -errno of opening @path.
 */
int pk_sym_file_offset(const char *path, const char *name, uint64_t *offset, size_t *size);

/**
 * pk_demangle_name() - the qualified name of a mangled C++ or Rust symbol.
 * @mangled: "_Z..." (Itanium C++, or Rust's legacy scheme).
 * @buf, @size: where the name goes ("ns::Class::method", "app::add"):
 *              no parameter types, template arguments or Rust hash.
 *
 * Return: 0; -EINVAL for a name it cannot read; -ENOSPC.
 */
int pk_demangle_name(const char *mangled, char *buf, size_t size);

/*
 * pk_sym_file_foreach() - call @fn with the name of each function of the
 * ELF file @path (once per name, default versions), in name order, until
 * it returns non-zero. Return: what @fn returned, 0, or -errno.
 */
int pk_sym_file_foreach(const char *path, int (*fn)(const char *name, void *arg), void *arg);

/* Fork handling: 0 before fork (locks), 1 after it in parent or child (unlocks). */
void pk_sym_atfork(int phase);
/*
 * Free every snapshot and table. Only when nothing can be reading them any
 * more: the engine is being released, no handler runs (see sym.c's top).
 */
void pk_sym_release(void);

/*
 * elf_go.c: whether the ELF file at @path is a Go program: 0 (not one, or
 * unreadable), PK_GO_CGO (its threads are the C library's: runtime/cgo
 * starts them) or PK_GO_OWN_THREADS (the Go runtime starts its threads
 * itself and points their thread register at a block of its own, where the
 * engine's thread-local state cannot live).
 */
#define PK_GO_CGO	  1
#define PK_GO_OWN_THREADS 2
int pk_elf_go(const char *path);

#endif /* PK_SYM_H */
