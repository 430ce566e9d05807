/* SPDX-License-Identifier: MIT */
/*
 * The kprobe_events / uprobe_events language, for user-space processes.
 *
 * One definition line ("p:grp/ev func+4 x=+8(%di):u32 s=+0(%si):string")
 * parses into a struct pk_event_def: the probe point (kept symbolic: the
 * traced process resolves it), the event's group and name, and each fetch
 * argument compiled once into a short program of fetch ops, with the layout
 * of the record a hit writes. The parser follows the kernel's
 * kernel/trace/trace_probe.c, trace_kprobe.c and trace_uprobe.c (x86-64,
 * 6.18, CONFIG_PROBE_EVENTS_BTF_ARGS off): the same forms are accepted and
 * rejected, with the same error cause and caret column as the kernel's
 * error_log.
 *
 * Two forms of probe point, as the kernel tells kprobes from uprobes:
 *   [OBJ:]SYM[+OFFS][%return] or ADDR     kprobe rules: @SYM and the symbol,
 *                                         symstr types allowed, @+OFFS not
 *   PATH:OFFSET[%return][(REFCTR)]        uprobe rules: PATH holds a '/';
 *                                         @+OFFS allowed, @SYM and the
 *                                         symbol, symstr types not, no $argN
 *   PATH:SYM[+OFFS][%return]              probekit's own: a symbol of the
 *                                         file, kprobe rules plus @+OFFS
 *
 * A record is laid out as the kernel lays out an event's fields, without the
 * common header: each argument's fixed-size field in definition order, with
 * no padding; strings as the kernel's __data_loc u32 ((len << 16) | offset,
 * the offset counted from the record's first byte, len counting the NUL, 0
 * when the string could not be read); then a bitmap of the arguments whose
 * memory could not be read; then the strings themselves.
 *
 * Where probekit differs from the kernel, on purpose:
 *   - %rax, %rdi, %rip... and the 32-bit %eax, %r8d... are accepted besides
 *     the pt_regs names (x86-64 kernels know only ax, di, ip...);
 *   - PATH:SYM; "rN" and ":GRP/EVENT" on PATH:OFFSET (tracefs silently
 *     ignores both there); the default group is "probekit";
 *   - generated names replace every character an event name may not hold,
 *     and ADDR's name shows the address, not a hashed %p;
 *   - OBJ:SYM+OFFS looks for the sign after the ':' ("libstdc++.so.6:f");
 *   - a dereference offset keeps 64 bits (the kernel keeps an int);
 *   - a number that cannot be read is 0 and flagged (the kernel leaves the
 *     field as the buffer held it when a dereference before it faults);
 *     a string constant on PATH:OFFSET prints the string (tracefs prints
 *     (fault) for it: it reads kernel memory as user memory there).
 *
 * Nothing here prints, exits, allocates or keeps global state.
 * pk_event_fetch() and pk_event_fetch_entry() are also async-signal-safe and
 * call no libc function. A definition is one flat, pointer-free structure
 * that can be copied to another process, where pk_event_validate() checks it
 * before use.
 */
#ifndef PK_EVENTS_H
#define PK_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "probekit.h"

/* Limits, as the kernel's trace_probe.h where it has one. */
#define PK_EV_MAX_ARGS	     128   /* MAX_TRACE_ARGS */
#define PK_EV_MAX_ARGSTR     63	   /* MAX_ARGSTR_LEN: one argument's expression */
#define PK_EV_MAX_ARRAY	     64	   /* MAX_ARRAY_LEN */
#define PK_EV_MAX_ARG_NAME   32	   /* MAX_ARG_NAME_LEN */
#define PK_EV_NAME_SIZE	     64	   /* MAX_EVENT_NAME_LEN: group and event, with the NUL */
#define PK_EV_MAX_OPS	     16	   /* FETCH_INSN_MAX: ops per argument, END included */
#define PK_EV_MAX_EVENT_SIZE 3072  /* MAX_PROBE_EVENT_SIZE: the fixed part of a record */
#define PK_EV_MAX_STRING     4096  /* MAX_STRING_SIZE: one string, with its NUL */
#define PK_EV_MAX_LINE	     4096  /* a definition, with its NUL (the kernel's write buffer) */
#define PK_EV_MAX_MAXACTIVE  4096  /* KRETPROBE_MAXACTIVE_MAX */
#define PK_EV_MAX_STACK	     2048  /* PARAM_MAX_STACK: $stackN and $argN on kprobes */
#define PK_EV_MAX_RECORD     65535 /* a __data_loc offset is 16 bits */
#define PK_EV_COMM_LEN	     16	   /* TASK_COMM_LEN */
#define PK_EV_POOL_SIZE	     16384
#define PK_EV_DEFAULT_GROUP  "probekit"

#define PK_EV_MAGIC 0x31766b70u /* "pkv1" */
#define PK_EV_NREGS (sizeof(struct pk_regs) / sizeof(unsigned long))

/*
 * Every cause of error, in the kernel's order and words: X(NAME, errno,
 * message). The errno is what pk_event_parse() returns for it. The last ones
 * are probekit's: the kernel fails those lines without a log entry.
 */
#define PK_EV_ERRORS(X)                                                                            \
	X(FILE_NOT_FOUND, ENOENT, "Failed to find the given file")                                 \
	X(NO_REGULAR_FILE, EINVAL, "Not a regular file")                                           \
	X(BAD_REFCNT, EINVAL, "Invalid reference counter offset")                                  \
	X(REFCNT_OPEN_BRACE, EINVAL, "Reference counter brace is not closed")                      \
	X(BAD_REFCNT_SUFFIX, EINVAL, "Reference counter has wrong suffix")                         \
	X(BAD_UPROBE_OFFS, EINVAL, "Invalid uprobe offset")                                        \
	X(BAD_MAXACT_TYPE, EINVAL, "Maxactive is only for function exit")                          \
	X(BAD_MAXACT, EINVAL, "Invalid maxactive number")                                          \
	X(MAXACT_TOO_BIG, EINVAL, "Maxactive is too big")                                          \
	X(BAD_PROBE_ADDR, EINVAL, "Invalid probed address or symbol")                              \
	X(NON_UNIQ_SYMBOL, EADDRNOTAVAIL, "The symbol is not unique")                              \
	X(BAD_RETPROBE, EINVAL, "Retprobe address must be an function entry")                      \
	X(BAD_ADDR_SUFFIX, EINVAL, "Invalid probed address suffix")                                \
	X(NO_GROUP_NAME, EINVAL, "Group name is not specified")                                    \
	X(GROUP_TOO_LONG, EINVAL, "Group name is too long")                                        \
	X(BAD_GROUP_NAME, EINVAL, "Group name must follow the same rules as C identifiers")        \
	X(NO_EVENT_NAME, EINVAL, "Event name is not specified")                                    \
	X(EVENT_TOO_LONG, EINVAL, "Event name is too long")                                        \
	X(BAD_EVENT_NAME, EINVAL, "Event name must follow the same rules as C identifiers")        \
	X(EVENT_EXIST, EEXIST, "Given group/event name is already used by another event")          \
	X(RETVAL_ON_PROBE, EINVAL, "$retval is not available on probe")                            \
	X(BAD_STACK_NUM, EINVAL, "Invalid stack number")                                           \
	X(BAD_ARG_NUM, EINVAL, "Invalid argument number")                                          \
	X(BAD_VAR, EINVAL, "Invalid $-variable specified")                                         \
	X(BAD_REG_NAME, EINVAL, "Invalid register name")                                           \
	X(BAD_MEM_ADDR, EINVAL, "Invalid memory address")                                          \
	X(BAD_IMM, EINVAL, "Invalid immediate value")                                              \
	X(IMMSTR_NO_CLOSE, EINVAL, "String is not closed with '\"'")                               \
	X(FILE_ON_KPROBE, EINVAL, "File offset is not available with kprobe")                      \
	X(BAD_FILE_OFFS, EINVAL, "Invalid file offset value")                                      \
	X(SYM_ON_UPROBE, EINVAL, "Symbol is not available with uprobe")                            \
	X(TOO_MANY_OPS, E2BIG, "Dereference is too much nested")                                   \
	X(DEREF_NEED_BRACE, EINVAL, "Dereference needs a brace")                                   \
	X(BAD_DEREF_OFFS, EINVAL, "Invalid dereference offset")                                    \
	X(DEREF_OPEN_BRACE, EINVAL, "Dereference brace is not closed")                             \
	X(COMM_CANT_DEREF, EINVAL, "$comm can not be dereferenced")                                \
	X(BAD_FETCH_ARG, EINVAL, "Invalid fetch argument")                                         \
	X(ARRAY_NO_CLOSE, EINVAL, "Array is not closed")                                           \
	X(BAD_ARRAY_SUFFIX, EINVAL, "Array has wrong suffix")                                      \
	X(BAD_ARRAY_NUM, EINVAL, "Invalid array size")                                             \
	X(ARRAY_TOO_BIG, EINVAL, "Array number is too big")                                        \
	X(BAD_TYPE, EINVAL, "Unknown type is specified")                                           \
	X(BAD_STRING, EINVAL, "String accepts only memory argument")                               \
	X(BAD_SYMSTRING, EINVAL, "Symbol String doesn't accept data/userdata")                     \
	X(BAD_BITFIELD, EINVAL, "Invalid bitfield")                                                \
	X(ARG_NAME_TOO_LONG, EINVAL, "Argument name is too long")                                  \
	X(NO_ARG_NAME, EINVAL, "Argument name is not specified")                                   \
	X(BAD_ARG_NAME, EINVAL, "Argument name must follow the same rules as C identifiers")       \
	X(USED_ARG_NAME, EINVAL, "This argument name is already used")                             \
	X(ARG_TOO_LONG, E2BIG, "Argument expression is too long")                                  \
	X(NO_ARG_BODY, EINVAL, "No argument expression")                                           \
	X(BAD_INSN_BNDRY, EILSEQ, "Probe point is not an instruction boundary")                    \
	X(FAIL_REG_PROBE, EINVAL, "Failed to register probe event")                                \
	X(DIFF_PROBE_TYPE, EEXIST, "Probe type is different from existing probe")                  \
	X(DIFF_ARG_TYPE, EEXIST, "Argument type or name is different from existing probe")         \
	X(SAME_PROBE, EEXIST, "There is already the exact same probe event")                       \
	X(NOSUP_BTFARG, EOPNOTSUPP, "BTF is not available or not supported")                       \
	X(NOFENTRY_ARGS, EINVAL, "$arg* can be used only on function entry or exit")               \
	X(DOUBLE_ARGS, EINVAL, "$arg* can be used only once in the parameters")                    \
	X(NEED_STRING_TYPE, EINVAL, "$comm and immediate-string only accepts string type")         \
	X(TOO_MANY_ARGS, E2BIG, "Too many arguments are specified")                                \
	X(EVENT_TOO_BIG, E2BIG, "Event too big (too many fields?)")                                \
	X(BAD_CMD, EINVAL, "Definition must start with p, r or -")                                 \
	X(NO_PROBE_POINT, EINVAL, "Probe point is not specified")                                  \
	X(BAD_DELETE, EINVAL, "Deletion must be -:[GROUP/]EVENT")                                  \
	X(LINE_TOO_LONG, E2BIG, "Definition is too long")

enum pk_ev_err {
	PK_EVERR_NONE = 0,
#define PK_EV_ENUM_(name, errno_, msg) PK_EVERR_##name,
	PK_EV_ERRORS(PK_EV_ENUM_)
#undef PK_EV_ENUM_
	    PK_EVERR_NR
};

/*
 * Where a definition failed, as the kernel's error_log shows it: @command is
 * the definition's words joined by single spaces (the kernel re-joins its
 * argv), @pos the column of the caret in it.
 */
struct pk_event_error {
	enum pk_ev_err cause;
	int pos;
	const char *subsystem; /* "trace_kprobe" or "trace_uprobe", as the kernel's log */
	char command[PK_EV_MAX_LINE];
};

/* Fetch argument types (the kernel's probe_fetch_types). */
enum pk_ev_type {
	PK_EVT_U8,
	PK_EVT_U16,
	PK_EVT_U32,
	PK_EVT_U64,
	PK_EVT_S8,
	PK_EVT_S16,
	PK_EVT_S32,
	PK_EVT_S64,
	PK_EVT_X8,
	PK_EVT_X16,
	PK_EVT_X32,
	PK_EVT_X64,
	PK_EVT_CHAR,
	PK_EVT_SYMBOL,
	PK_EVT_STRING,
	PK_EVT_USTRING,
	PK_EVT_SYMSTR,
	PK_EVT_NR
};

/*
 * Fetch ops, in the kernel's stages: one load, dereferences, one store, an
 * optional bitfield, an optional loop, END.
 */
enum pk_fetch_opcode {
	PK_FOP_NOP = 0, /* never in a valid program */
	/* load: the value the rest works on */
	PK_FOP_REG,    /* param: pk_regs word index; size: 8, or 4 for %eax-style names */
	PK_FOP_STACK,  /* imm: N of $stackN: the word at sp + 8 * N */
	PK_FOP_STACKP, /* $stack: sp */
	PK_FOP_RETVAL, /* $retval: ax (return probes) */
	PK_FOP_IMM,    /* \IMM and @ADDR: imm */
	PK_FOP_COMM,   /* $comm: the caller's pk_event_env.comm */
	PK_FOP_ARG,    /* $argN at function entry: param = N - 1 (SysV: di si dx cx r8 r9, stack) */
	PK_FOP_EDATA,  /* $argN in a return probe: offset into the entry data */
	PK_FOP_FOFFS,  /* @+OFFS: imm is a file offset of the probed file */
	PK_FOP_SYMBOL, /* @SYM[+|-OFFS]: param = pool offset of the text; size = 1 once
			  pk_event_resolve() stored the address in imm */
	PK_FOP_DATA,   /* \"str": param = pool offset of the string */
	/* dereference: value = *(unsigned long *)(value + offset) */
	PK_FOP_DEREF,
	PK_FOP_UDEREF,
	/* store into the record: size bytes per element */
	PK_FOP_ST_RAW,	   /* the value itself */
	PK_FOP_ST_MEM,	   /* size bytes at value + offset */
	PK_FOP_ST_UMEM,	   /* the same (one address space here) */
	PK_FOP_ST_STRING,  /* the string at value + offset, __data_loc */
	PK_FOP_ST_USTRING, /* the same */
	PK_FOP_ST_SYMSTR,  /* the value symbolized as %pS, __data_loc */
	/* modify */
	PK_FOP_MOD_BF, /* size: container bytes; value <<= lshift, >>= rshift */
	/* loop */
	PK_FOP_LP_ARRAY, /* param: element count */
	PK_FOP_END,
	PK_FOP_NR
};

struct pk_fetch_op {
	uint8_t op;
	uint8_t size;
	uint8_t lshift;
	uint8_t rshift;
	uint32_t param;
	union {
		int64_t offset;
		uint64_t imm;
	};
};

/* One fetch argument: its field in the record and the program that fills it. */
struct pk_event_arg {
	char name[PK_EV_MAX_ARG_NAME + 1];
	uint8_t type;	 /* enum pk_ev_type */
	uint8_t dynamic; /* 1 when the field is a __data_loc (string types) */
	uint8_t ncode;	 /* ops in code[], END included */
	uint16_t count;	 /* array elements, 0 for a scalar */
	uint16_t offset; /* of the field in the record */
	uint16_t size;	 /* of the field: the type's size times max(count, 1) */
	uint16_t comm;	 /* pool offset of the argument's text after "NAME=" */
	struct pk_fetch_op code[PK_EV_MAX_OPS];
};

enum pk_ev_form {
	PK_EV_FORM_DELETE,	/* -:[GRP/]EVENT */
	PK_EV_FORM_SYMBOL,	/* [OBJ:]SYM[+OFFS] */
	PK_EV_FORM_ADDR,	/* ADDR */
	PK_EV_FORM_FILE,	/* PATH:OFFSET */
	PK_EV_FORM_FILE_SYMBOL, /* PATH:SYM[+OFFS] */
};

/* pk_event_def.flags */
#define PK_EVF_RETURN	 0x01 /* a return probe ('r' or %return) */
#define PK_EVF_FENTRY	 0x02 /* at a function's first instruction: $argN reads arguments */
#define PK_EVF_USER	 0x04 /* kernel uprobe rules apply (PATH:OFFSET) */
#define PK_EVF_FILE	 0x08 /* the probe point names a file: @+OFFS allowed */
#define PK_EVF_GENERATED 0x10 /* the event name was made up, as the kernel does */
#define PK_EVF_RET_INSN	 0x20 /* a return probe taken at the function's ret instructions */

struct pk_event_def {
	uint32_t magic;	    /* PK_EV_MAGIC */
	uint32_t abi_size;  /* sizeof(struct pk_event_def) */
	char kind;	    /* 'p', 'r' or '-' */
	uint8_t form;	    /* enum pk_ev_form */
	uint8_t flags;	    /* PK_EVF_* */
	uint8_t nentry;	    /* $argN values a return probe saves at entry */
	uint16_t maxactive; /* rN:, 0 when not given */
	uint16_t nargs;
	uint16_t fixed_size; /* the fields: the record's fault bitmap starts here */
	uint16_t dyn_offset; /* strings start here: fixed_size + (nargs + 7) / 8 */
	uint16_t pool_used;
	uint16_t object; /* pool offset: OBJ of OBJ:SYM, PATH of the file forms; 0 if none */
	uint16_t symbol; /* pool offset: SYM; 0 if none */
	/*
	 * Where pool[] starts, from the definition's first byte: the member's
	 * own offset as parsed, right after args[nargs] once packed.
	 */
	uint16_t pool_at;
	uint64_t offset;	 /* +OFFS after SYM, or the file offset of PATH:OFFSET */
	uint64_t addr;		 /* ADDR */
	uint64_t ref_ctr_offset; /* PATH:OFFSET(REFCTR) */
	char group[PK_EV_NAME_SIZE];
	char event[PK_EV_NAME_SIZE]; /* empty in "-:GRP/" (every event of the group) */
	/* Return probes: entry_arg[i] is the N - 1 of a $argN saved at entry in slot i. */
	uint16_t entry_arg[PK_EV_MAX_ARGS];
	struct pk_event_arg args[PK_EV_MAX_ARGS];
	/* NUL-terminated strings; offset 0 is the empty string. */
	char pool[PK_EV_POOL_SIZE];
};

/* pk_event_def.pool strings: "" for offset 0 or one out of bounds. */
static inline const char *pk_event_str(const struct pk_event_def *def, unsigned int off)
{
	return off < def->pool_used && off < PK_EV_POOL_SIZE
		   ? (const char *)def + def->pool_at + off
		   : "";
}

/* The bytes of @def in use: up to the end of its pool, parsed or packed. */
static inline size_t pk_event_size(const struct pk_event_def *def)
{
	return (size_t)def->pool_at + def->pool_used;
}

/**
 * pk_event_pack() - move @def's pool down to right after its last argument.
 * @def: a definition from pk_event_parse() (or already packed).
 *
 * A parsed definition has room for every argument and string a line may
 * hold (about 55 KiB); one of a few arguments needs a few hundred bytes.
 * Packed, it is read (pk_event_fetch(), pk_event_format(), pk_event_str(),
 * pk_event_validate()) as before, but no longer parsed into or copied by
 * sizeof: only its first pk_event_size() bytes are valid.
 *
 * Return: the packed size, pk_event_size() of the result.
 */
size_t pk_event_pack(struct pk_event_def *def);

/* A little-endian field of @size bytes (at most 8) of a record, at any alignment. */
static inline uint64_t pk_event_get_le(const void *p, unsigned int size)
{
	const uint8_t *b = p;
	uint64_t v = 0;

	while (size--)
		v = v << 8 | b[size];
	return v;
}

/* Bytes pk_event_fetch_entry() saves for a return probe. */
static inline size_t pk_event_entry_size(const struct pk_event_def *def)
{
	return (size_t)def->nentry * sizeof(unsigned long);
}

/**
 * pk_event_parse() - parse one definition line and compile its arguments.
 * @def: filled in entirely (the caller allocates it; it holds no pointers).
 * @line: "p[:[GRP/][EVENT]] POINT [ARGS...]", "r[MAXACTIVE][:[GRP/][EVENT]] POINT
 *        [ARGS...]" or "-:[GRP/]EVENT"; words split at white space, as the kernel.
 * @err: if not NULL, set to the cause and caret column on failure, and to
 *       PK_EVERR_NONE on success.
 *
 * Nothing is resolved: symbols and files are looked up later, in the traced
 * process (pk_event_resolve(), and the probe registration itself).
 *
 * Return: 0, or the errno of the cause (see PK_EV_ERRORS): -EINVAL for a line
 * the grammar rejects, -E2BIG for one over a size limit (too many arguments
 * or dereferences, an argument or event too big, a line of PK_EV_MAX_LINE
 * bytes or more), -EOPNOTSUPP for BTF names (bare identifiers and $arg*);
 * -ENODATA for a line that is empty or only a '#' comment (no cause set).
 * On failure @def is not a valid definition (its magic is cleared).
 */
int pk_event_parse(struct pk_event_def *def, const char *line, struct pk_event_error *err);

/**
 * pk_event_validate() - check a definition that came from elsewhere.
 * @def: a definition, possibly corrupted or forged.
 * @size: how many bytes of it were received (at least pk_event_size() of
 *        it, which a packed definition may be).
 *
 * Checks everything pk_event_fetch(), pk_event_format() and
 * pk_event_format_json() rely on: the header, every string's termination,
 * every pool offset, the record layout (fields contiguous and within
 * PK_EV_MAX_EVENT_SIZE, sizes matching types and counts), and every program:
 * its op order (load, dereferences, store, bitfield, loop, END), each op's
 * operands (register index, sizes, shifts, counts, entry-data slots), END
 * present and last.
 *
 * Return: 0, or -EINVAL if anything is out of place.
 */
int pk_event_validate(const struct pk_event_def *def, size_t size);

/* What pk_event_resolve() asks the traced process. */
struct pk_event_resolver {
	/* The address of @name ("sym" or "object:sym"); 0, or -ENOENT. */
	int (*lookup)(void *ctx, const char *name, unsigned long *addr);
	void *ctx;
};

/**
 * pk_event_resolve() - resolve the @SYM[+|-OFFS] arguments.
 * @def: a valid definition; its PK_FOP_SYMBOL ops get their addresses.
 * @r: the lookup.
 *
 * Split and looked up as the kernel's traceprobe_update_arg() does. An
 * unresolved @SYM reads as a fault.
 *
 * Return: 0, -EINVAL if an offset does not parse, or the lookup's error
 * (-ENOENT) for the first symbol that is not found.
 */
int pk_event_resolve(struct pk_event_def *def, const struct pk_event_resolver *r);

/* What a hit knows besides the registers. */
struct pk_event_env {
	const char *comm;	/* $comm: the thread's name (15 bytes used at most) */
	const void *entry_data; /* return probes: what pk_event_fetch_entry() saved */
	size_t entry_size;
	/* @+OFFS: where file offset 0 of the probed file is mapped (the probe's
	 * address minus its file offset); 0 makes them faults. */
	unsigned long file_base;
	/* symstr: format @addr as %pS (pk_sprint_symbol() does); NULL gives hex.
	 * Called from the probe handler: must be async-signal-safe. */
	int (*symbolize)(void *ctx, char *buf, size_t size, unsigned long addr);
	void *ctx;
};

/**
 * pk_event_fetch_entry() - save what a return probe needs from the entry.
 * @def: a valid return-probe definition.
 * @regs: the registers at the function's first instruction.
 * @edata: pk_event_entry_size(@def) bytes (the retprobe instance's data).
 * @cap: bytes available at @edata.
 *
 * Async-signal-safe; reads memory only with pk_read_nofault().
 * Return: 0, or -ENOSPC if @cap is too small.
 */
int pk_event_fetch_entry(const struct pk_event_def *def, const struct pk_regs *regs, void *edata,
			 size_t cap);

/**
 * pk_event_fetch() - run every argument's program and write the record.
 * @def: a valid definition (pk_event_parse() or pk_event_validate()).
 * @regs: the registers at the hit.
 * @is_return: 1 if @regs are at the function's return (a return probe's
 *             handler), 0 at a probe point; must match @def's kind.
 * @rec: the record.
 * @cap: bytes available at @rec.
 * @env: $comm, the entry data, the file base, the symbolizer; may be NULL.
 *
 * Memory is read only with pk_read_nofault(): an unreadable address stores a
 * string as "(fault)" (__data_loc length 0) and a number as 0, as the kernel,
 * and sets the argument's bit in the record's fault bitmap. Strings longer
 * than PK_EV_MAX_STRING - 1 bytes, or than the room left, are cut. No libc
 * call, no allocation, no lock: async-signal-safe.
 *
 * Return: the record's length (at least @def->dyn_offset), -ENOSPC if @cap is
 * smaller than @def->dyn_offset, or -EINVAL if @is_return does not match.
 */
int pk_event_fetch(const struct pk_event_def *def, const struct pk_regs *regs, int is_return,
		   void *rec, size_t cap, const struct pk_event_env *env);

/* Formatting options. */
struct pk_event_fmt {
	/* symbol type: format @addr as %pS; NULL prints 0x%lx. */
	int (*symbolize)(void *ctx, char *buf, size_t size, unsigned long addr);
	void *ctx;
	unsigned int flags;
};
/* Print a number whose memory could not be read as (fault) (JSON: null), not as 0. */
#define PK_EVFMT_FAULTS 0x1

/**
 * pk_event_format() - a record as the kernel's trace prints the arguments.
 * @def: a valid definition.
 * @rec: a record of @def, possibly damaged: every offset in it is checked.
 * @len: the record's length.
 * @buf: output.
 * @size: its size; the output is cut and NUL-terminated as snprintf().
 * @fmt: options, or NULL.
 *
 * Writes " name=value" for each argument, each preceded by one space as the
 * kernel's print_probe_args(), ready to follow "EVENT: (ADDR)". Values as the
 * kernel's print_type_*(): u8-u32 %u, u64 %llu, s8-s32 %d, s64 %lld, x8-x32
 * 0x%x, x64 0x%llx (no zero padding), char '%c' (the raw byte), symbol %pS,
 * strings "..." with their bytes as they are, or (fault) unquoted, arrays
 * {a,b,c}.
 *
 * Return: the length of the whole text, as snprintf() (it may hold NUL bytes:
 * a char field of 0 prints one, as the kernel); -EINVAL if @rec is shorter
 * than @def's fixed part.
 */
int pk_event_format(const struct pk_event_def *def, const void *rec, size_t len, char *buf,
		    size_t size, const struct pk_event_fmt *fmt);

/**
 * pk_event_format_json() - a record's arguments as JSON object members.
 * @def: a valid definition.
 * @rec: a record of @def, checked as pk_event_format() does.
 * @len: the record's length.
 * @buf: output.
 * @size: its size, as snprintf().
 * @fmt: options, or NULL.
 *
 * Writes "name":value pairs separated by commas, without braces, for the
 * caller to put in its event object. Numbers are JSON numbers (x types in
 * decimal), char and strings JSON strings (control characters, quote and
 * backslash escaped, bytes that are not UTF-8 as \u00XX), a string that
 * could not be read null, symbols strings, arrays arrays.
 *
 * Return: the length of the whole text, as snprintf(); -EINVAL as
 * pk_event_format().
 */
int pk_event_format_json(const struct pk_event_def *def, const void *rec, size_t len, char *buf,
			 size_t size, const struct pk_event_fmt *fmt);

/**
 * pk_event_json_escape() - bytes as the inside of a JSON string.
 * @s: the bytes (NULs included, escaped as \u0000).
 * @n: how many.
 * @buf: output, without the quotes.
 * @size: its size, as snprintf().
 *
 * Escaped as pk_event_format_json() escapes strings: quote, backslash and
 * control characters, and bytes that are not UTF-8 as \u00XX (their Latin-1
 * reading). At most 6 * @n bytes.
 * Return: the length of the whole text, as snprintf(); it cannot fail.
 */
int pk_event_json_escape(const char *s, size_t n, char *buf, size_t size);

/** pk_event_strerror() - the kernel's message for @cause ("" for none). */
const char *pk_event_strerror(enum pk_ev_err cause);

/** pk_event_errname() - the cause's name ("BAD_VAR"), for tests and logs. */
const char *pk_event_errname(enum pk_ev_err cause);

/**
 * pk_event_error_set() - record an error found after parsing.
 * @err: filled in.
 * @line: the definition, as given to pk_event_parse().
 * @cause: the cause, e.g. PK_EVERR_BAD_PROBE_ADDR when the symbol is not
 *         found, PK_EVERR_FILE_NOT_FOUND, PK_EVERR_EVENT_EXIST.
 * @word: which word of @line the caret goes under (0: "p:...", 1: the probe
 *        point, 2...: the arguments); past the last word puts it after the end.
 * @offset: column within that word.
 *
 * For the errors the kernel finds when it registers a probe: see
 * pk_event_register_cause().
 * Return: the cause's errno, negated (as pk_event_parse() would return).
 */
int pk_event_error_set(struct pk_event_error *err, const char *line, enum pk_ev_err cause,
		       unsigned int word, int offset);

/**
 * pk_event_register_cause() - the kernel's cause for a failed registration.
 * @error: a negative errno from pk_register_probe() or pk_lookup_name().
 *
 * As __trace_kprobe_create(): -ENOENT is BAD_PROBE_ADDR, -EILSEQ
 * BAD_INSN_BNDRY, anything else but -ENOMEM and -EEXIST FAIL_REG_PROBE; the
 * caret goes under the probe point (word 1, offset 0).
 * Return: the cause, or PK_EVERR_NONE for -ENOMEM, -EEXIST and 0.
 */
enum pk_ev_err pk_event_register_cause(int error);

/**
 * pk_event_error_print() - the kernel-style report of @err.
 * @err: an error set by pk_event_parse() or pk_event_error_set().
 * @buf: output.
 * @size: its size, as snprintf().
 *
 * Three lines, as a tracefs error_log entry without its timestamp:
 *   "trace_kprobe: error: MESSAGE\n  Command: COMMAND\n" and a caret line
 *   with the caret under column @err->pos of COMMAND.
 * Return: the length of the whole text, as snprintf().
 */
int pk_event_error_print(const struct pk_event_error *err, char *buf, size_t size);

/** pk_event_type_name() - "u8", "string", ... for a type. */
const char *pk_event_type_name(enum pk_ev_type type);

#endif /* PK_EVENTS_H */
