// SPDX-License-Identifier: MIT
/*
 * The fetch interpreter: runs inside a probe handler, on any thread, maybe
 * inside a signal handler. So: no libc (not even memcpy: the probed program
 * may have a probe on it), no allocation, no locks, and every read of the
 * program's memory through pk_read_nofault(). The definition it runs has
 * been checked by pk_event_parse() or pk_event_validate(); the checks here
 * are only those that keep a damaged record inside @cap.
 *
 * Semantics are the kernel's process_fetch_insn() (trace_probe_tmpl.h), with
 * one change where the kernel leaves a field as whatever the buffer held: a
 * value that cannot be read is stored as 0 (a string as length 0), and the
 * argument's bit in the fault bitmap says so.
 */
#include <errno.h>

#include "arch/arch.h"
#include "events/ev_int.h"

#define PAGE	 4096ul
#define CHUNK	 64ul
#define NO_VALUE 1 /* the value could not be read */

struct fetch {
	const struct pk_event_def *def;
	const struct pk_regs *regs;
	const struct pk_event_env *env;
	uint8_t *rec;
	size_t cap; /* at most PK_EV_MAX_RECORD */
	size_t dyn; /* next free byte of the string area */
};

static void put_le(uint8_t *p, uint64_t v, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < size; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static void zero(uint8_t *p, size_t n)
{
	while (n--)
		*p++ = 0;
}

static int read_ulong(unsigned long addr, unsigned long *val)
{
	return pk_read_nofault(val, (const void *)addr, sizeof(*val)) ? NO_VALUE : 0;
}

static int arg_value(const struct pk_regs *regs, unsigned int n, unsigned long *val)
{
	return arch_regs_get_argument(regs, n, val) ? NO_VALUE : 0;
}

/* Stage 1: the value the rest works on. *@maxlen limits a string read there. */
static int load(struct fetch *f, const struct pk_fetch_op **pcode, unsigned long *val,
		size_t *maxlen)
{
	const struct pk_fetch_op *code = *pcode;
	const struct pk_event_env *env = f->env;
	const unsigned long *words = (const unsigned long *)f->regs;
	int ret = 0;

	switch (code->op) {
	case PK_FOP_REG:
		*val = words[code->param];
		if (code->size == 4)
			*val &= 0xffffffffu;
		break;
	case PK_FOP_STACK:
		ret = read_ulong(arch_regs_sp(f->regs) + sizeof(long) * code->imm, val);
		break;
	case PK_FOP_STACKP: *val = arch_regs_sp(f->regs); break;
	case PK_FOP_RETVAL: *val = arch_regs_return_value(f->regs); break;
	case PK_FOP_IMM: *val = code->imm; break;
	case PK_FOP_COMM:
		/* As strscpy() of current->comm. */
		*val = (unsigned long)(env ? env->comm : NULL);
		*maxlen = PK_EV_COMM_LEN;
		ret = *val ? 0 : NO_VALUE;
		break;
	case PK_FOP_ARG: ret = arg_value(f->regs, code->param, val); break;
	case PK_FOP_EDATA:
		if (!env || !env->entry_data || (uint64_t)code->offset + 8 > env->entry_size)
			return NO_VALUE;
		*val = (unsigned long)pk_event_get_le(
		    (const uint8_t *)env->entry_data + code->offset, 8);
		break;
	case PK_FOP_FOFFS:
		if (!env || !env->file_base)
			return NO_VALUE;
		*val = env->file_base + code->imm;
		break;
	case PK_FOP_SYMBOL:
		/* The address is in the IMM that follows, once resolved. */
		*pcode = ++code;
		*val = code->imm;
		ret = code[-1].size ? 0 : NO_VALUE;
		break;
	case PK_FOP_DATA: *val = (unsigned long)pk_event_str(f->def, code->param); break;
	default: return NO_VALUE;
	}
	return ret;
}

static uint32_t data_loc(size_t len, size_t off)
{
	return (uint32_t)(len << 16 | (off & 0xffff));
}

/*
 * strncpy_from_kernel_nofault() into the string area: at most @maxlen bytes
 * with the NUL, cut (and NUL-terminated) if longer. Reads go a chunk at a
 * time, never across a page: a chunk is then readable as a whole or not at
 * all, so one fault anywhere in the string faults it, as in the kernel.
 */
static uint32_t store_string(struct fetch *f, unsigned long addr, size_t maxlen)
{
	size_t room = f->cap - f->dyn, done = 0, n, i;
	uint8_t *dst = f->rec + f->dyn;

	if (room > PK_EV_MAX_STRING)
		room = PK_EV_MAX_STRING;
	if (room > maxlen)
		room = maxlen;
	if (!room)
		return data_loc(0, f->dyn);
	while (done < room) {
		n = room - done;
		if (n > CHUNK)
			n = CHUNK;
		if (n > PAGE - ((addr + done) & (PAGE - 1)))
			n = PAGE - ((addr + done) & (PAGE - 1));
		if (pk_read_nofault(dst + done, (const void *)(addr + done), n))
			return data_loc(0, f->dyn);
		for (i = 0; i < n; i++) {
			if (!dst[done + i]) {
				done += i + 1;
				goto out;
			}
		}
		done += n;
	}
	dst[room - 1] = '\0';
	done = room;
out:
	f->dyn += done;
	return data_loc(done, f->dyn - done);
}

static size_t hex(char *buf, unsigned long v)
{
	char tmp[16];
	size_t n = 0, len = 2;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[0] = '0';
	buf[1] = 'x';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

/* fetch_store_symstring(): the value as %pS, in the string area. */
static uint32_t store_symstr(struct fetch *f, unsigned long val)
{
	char buf[256];
	size_t room = f->cap - f->dyn, len, i;
	int n = -1;

	if (f->env && f->env->symbolize)
		n = f->env->symbolize(f->env->ctx, buf, sizeof(buf), val);
	if (n < 0)
		len = hex(buf, val);
	else
		len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	if (!room)
		return data_loc(0, f->dyn);
	if (len + 1 > room)
		len = room - 1;
	for (i = 0; i < len; i++)
		f->rec[f->dyn + i] = (uint8_t)buf[i];
	f->rec[f->dyn + len] = '\0';
	f->dyn += len + 1;
	return data_loc(len + 1, f->dyn - len - 1);
}

static void apply_bitfield(const struct pk_fetch_op *bf, uint8_t *dest)
{
	unsigned int bits = bf->size * 8u;
	uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	uint64_t v = pk_event_get_le(dest, bf->size);

	v = (v << bf->lshift) & mask;
	put_le(dest, v >> bf->rshift, bf->size);
}

/* Run argument @i's program; returns NO_VALUE if anything could not be read. */
static int run_arg(struct fetch *f, unsigned int i)
{
	const struct pk_event_arg *a = &f->def->args[i];
	const struct pk_fetch_op *code = a->code, *store, *bf = NULL, *last_deref = NULL;
	uint8_t *dest = f->rec + a->offset;
	unsigned long val = 0, lval = 0, elem;
	size_t maxlen = PK_EV_MAX_STRING;
	unsigned int count = 1, k, size;
	int ret, bad = 0;

	ret = load(f, &code, &val, &maxlen);
	code++;
	while (code->op == PK_FOP_DEREF || code->op == PK_FOP_UDEREF) {
		if (!ret) {
			lval = val;
			ret = read_ulong(val + (unsigned long)code->offset, &val);
		}
		last_deref = code++;
	}
	store = code++;
	if (code->op == PK_FOP_MOD_BF)
		bf = code++;
	if (code->op == PK_FOP_LP_ARRAY)
		count = code->param;
	size = store->size;

	for (k = 0; k < count; k++, dest += size) {
		switch (store->op) {
		case PK_FOP_ST_STRING:
		case PK_FOP_ST_USTRING:
			/* Element k of an array: the k-th pointer the last dereference read. */
			elem = val;
			if (!ret && k &&
			    (!last_deref ||
			     read_ulong(lval + 8ul * k + (unsigned long)last_deref->offset,
					&elem))) {
				put_le(dest, data_loc(0, f->dyn), 4);
				bad = NO_VALUE;
				continue;
			}
			put_le(dest,
			       ret ? data_loc(0, f->dyn)
				   : store_string(f, elem + (unsigned long)store->offset, maxlen),
			       4);
			if (!(pk_event_get_le(dest, 4) >> 16))
				bad = NO_VALUE;
			continue;
		case PK_FOP_ST_SYMSTR:
			put_le(dest, ret ? data_loc(0, f->dyn) : store_symstr(f, val), 4);
			continue;
		case PK_FOP_ST_RAW: put_le(dest, ret ? 0 : val, size); break;
		default: /* ST_MEM, ST_UMEM */
			if (ret ||
			    pk_read_nofault(dest,
					    (const void *)(val + (unsigned long)store->offset +
							   (unsigned long)k * size),
					    size)) {
				zero(dest, size);
				bad = NO_VALUE;
			}
			break;
		}
		if (bf)
			apply_bitfield(bf, dest);
	}
	return ret | bad;
}

int pk_event_fetch(const struct pk_event_def *def, const struct pk_regs *regs, int is_return,
		   void *rec, size_t cap, const struct pk_event_env *env)
{
	struct fetch f = {.def = def, .regs = regs, .env = env, .rec = rec};
	unsigned int i;

	if (def->kind == '-' || !is_return != !(def->flags & PK_EVF_RETURN))
		return -EINVAL;
	if (cap < def->dyn_offset)
		return -ENOSPC;
	f.cap = cap > PK_EV_MAX_RECORD ? PK_EV_MAX_RECORD : cap;
	f.dyn = def->dyn_offset;
	zero(f.rec + def->fixed_size, (size_t)(def->dyn_offset - def->fixed_size));
	for (i = 0; i < def->nargs; i++)
		if (run_arg(&f, i))
			f.rec[def->fixed_size + i / 8] |= (uint8_t)(1u << (i % 8));
	return (int)f.dyn;
}

int pk_event_fetch_entry(const struct pk_event_def *def, const struct pk_regs *regs, void *edata,
			 size_t cap)
{
	unsigned long v;
	unsigned int i;

	if (cap < pk_event_entry_size(def))
		return -ENOSPC;
	for (i = 0; i < def->nentry; i++) {
		if (arg_value(regs, def->entry_arg[i], &v))
			v = 0;
		put_le((uint8_t *)edata + i * sizeof(v), v, sizeof(v));
	}
	return 0;
}
