// SPDX-License-Identifier: MIT
/*
 * Checking a definition that crossed a process boundary, and resolving its
 * @SYM arguments in the traced process.
 *
 * The agent receives definitions from the CLI and runs them inside the
 * traced program: a wrong offset there would write outside a record, a
 * wrong register index read outside the registers. So every field the
 * interpreter and the formatters use is checked against what the parser can
 * produce, and anything else is refused rather than clamped.
 */
#include <errno.h>
#include <string.h>

#include "events/ev_int.h"

#define KNOWN_FLAGS                                                                                \
	(PK_EVF_RETURN | PK_EVF_FENTRY | PK_EVF_USER | PK_EVF_FILE | PK_EVF_GENERATED |            \
	 PK_EVF_RET_INSN)

static bool pool_ok(const struct pk_event_def *def, unsigned int off)
{
	/* The pool's last used byte is a NUL, so any offset below it starts a string. */
	return off < def->pool_used;
}

static bool terminated(const char *s, size_t size)
{
	return pk_ev_strnlen(s, size) < size;
}

static bool is_deref(unsigned int op)
{
	return op == PK_FOP_DEREF || op == PK_FOP_UDEREF;
}

/* One argument's program: load, dereferences, store, [bitfield], [loop], END. */
static int check_program(const struct pk_event_def *def, const struct pk_event_arg *a)
{
	const struct pk_ev_type_info *t = &pk_ev_types[a->type];
	const struct pk_fetch_op *c = a->code;
	unsigned int flags = def->flags, i = 0, n = a->ncode, bits, load;
	bool kernel = !(flags & PK_EVF_USER);

	if (n < 2 || n > PK_EV_MAX_OPS || c[n - 1].op != PK_FOP_END)
		return -EINVAL;
	load = c[0].op;
	switch (load) {
	case PK_FOP_REG:
		if (c[0].param >= PK_EV_NREGS || (c[0].size != 4 && c[0].size != 8))
			return -EINVAL;
		break;
	case PK_FOP_STACK:
		if (c[0].imm > UINT32_MAX)
			return -EINVAL;
		break;
	case PK_FOP_RETVAL:
		if (!(flags & PK_EVF_RETURN))
			return -EINVAL;
		break;
	case PK_FOP_ARG:
		if (!kernel || (flags & (PK_EVF_FENTRY | PK_EVF_RETURN)) != PK_EVF_FENTRY ||
		    c[0].param >= PK_EV_MAX_STACK)
			return -EINVAL;
		break;
	case PK_FOP_EDATA:
		if (!kernel || !(flags & PK_EVF_RETURN) || c[0].offset < 0 || c[0].offset % 8 ||
		    c[0].offset / 8 >= def->nentry)
			return -EINVAL;
		break;
	case PK_FOP_FOFFS:
		if (!(flags & PK_EVF_FILE))
			return -EINVAL;
		break;
	case PK_FOP_SYMBOL:
		if (!kernel || !pool_ok(def, c[0].param) || c[0].size > 1 || c[1].op != PK_FOP_IMM)
			return -EINVAL;
		i = 1;
		break;
	case PK_FOP_DATA:
		if (!pool_ok(def, c[0].param))
			return -EINVAL;
		break;
	case PK_FOP_STACKP:
	case PK_FOP_IMM:
	case PK_FOP_COMM: break;
	default: return -EINVAL;
	}
	i++;
	while (i < n && is_deref(c[i].op))
		i++;
	/* $comm and string constants are strings as they are. */
	if ((load == PK_FOP_COMM || load == PK_FOP_DATA) && i != 1)
		return -EINVAL;
	if (i >= n || c[i].size != t->size)
		return -EINVAL;
	switch (c[i].op) {
	case PK_FOP_ST_RAW:
	case PK_FOP_ST_MEM:
	case PK_FOP_ST_UMEM:
		if (t->is_string || load == PK_FOP_COMM || load == PK_FOP_DATA)
			return -EINVAL;
		break;
	case PK_FOP_ST_STRING:
	case PK_FOP_ST_USTRING:
		if (a->type != PK_EVT_STRING && a->type != PK_EVT_USTRING)
			return -EINVAL;
		break;
	case PK_FOP_ST_SYMSTR:
		if (a->type != PK_EVT_SYMSTR || load == PK_FOP_COMM || load == PK_FOP_DATA)
			return -EINVAL;
		break;
	default: return -EINVAL;
	}
	i++;
	if (c[i].op == PK_FOP_MOD_BF) {
		bits = t->size * 8u;
		if (t->is_string || c[i].size != t->size || c[i].lshift > c[i].rshift ||
		    c[i].rshift >= bits)
			return -EINVAL;
		i++;
	}
	if (a->count) {
		if (c[i].op != PK_FOP_LP_ARRAY || c[i].param != a->count ||
		    (c[i - 1].op != PK_FOP_ST_MEM && c[i - 1].op != PK_FOP_ST_STRING &&
		     c[i - 1].op != PK_FOP_ST_USTRING && c[i - 1].op != PK_FOP_MOD_BF) ||
		    (c[i - 1].op == PK_FOP_MOD_BF && c[i - 2].op != PK_FOP_ST_MEM))
			return -EINVAL;
		i++;
	}
	return c[i].op == PK_FOP_END && i == n - 1 ? 0 : -EINVAL;
}

static int check_args(const struct pk_event_def *def)
{
	unsigned int i, j, fixed = 0;

	for (i = 0; i < def->nentry; i++)
		if (def->entry_arg[i] >= PK_EV_MAX_STACK)
			return -EINVAL;
	for (i = 0; i < def->nargs; i++) {
		const struct pk_event_arg *a = &def->args[i];
		unsigned int size;

		if (!terminated(a->name, sizeof(a->name)) || !pk_ev_good_name(a->name, false) ||
		    !pool_ok(def, a->comm) || a->type >= PK_EVT_NR)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(a->name, def->args[j].name))
				return -EINVAL;
		size = pk_ev_types[a->type].size * (a->count ? a->count : 1u);
		if (a->dynamic != pk_ev_types[a->type].is_string || a->count > PK_EV_MAX_ARRAY ||
		    a->size != size || a->offset != fixed)
			return -EINVAL;
		fixed += size;
		if (fixed > PK_EV_MAX_EVENT_SIZE || check_program(def, a))
			return -EINVAL;
	}
	if (fixed != def->fixed_size || def->dyn_offset != fixed + (def->nargs + 7u) / 8u)
		return -EINVAL;
	return 0;
}

int pk_event_validate(const struct pk_event_def *def, size_t size)
{
	unsigned int i, form_flags;

	size_t head = offsetof(struct pk_event_def, args);
	const char *pool;

	if (!def || size < head || def->magic != PK_EV_MAGIC || def->abi_size != sizeof(*def) ||
	    def->nargs > PK_EV_MAX_ARGS)
		return -EINVAL;
	/* As parsed, or packed: the arguments in use all lie before the pool. */
	if (def->pool_at != offsetof(struct pk_event_def, pool) &&
	    def->pool_at != head + def->nargs * sizeof(def->args[0]))
		return -EINVAL;
	if (!def->pool_used || def->pool_used > PK_EV_POOL_SIZE || size < pk_event_size(def))
		return -EINVAL;
	pool = (const char *)def + def->pool_at;
	if (pool[0] || pool[def->pool_used - 1])
		return -EINVAL;
	if (!terminated(def->group, sizeof(def->group)) ||
	    !terminated(def->event, sizeof(def->event)) || def->nargs > PK_EV_MAX_ARGS ||
	    def->nentry > PK_EV_MAX_ARGS || !pool_ok(def, def->object) ||
	    !pool_ok(def, def->symbol) || def->maxactive > PK_EV_MAX_MAXACTIVE)
		return -EINVAL;

	if (def->kind == '-') {
		if (def->form != PK_EV_FORM_DELETE)
			return -EINVAL;
		for (i = 0; i < def->nargs; i++)
			if (!pool_ok(def, def->args[i].comm))
				return -EINVAL;
		return 0;
	}
	if ((def->kind != 'p' && def->kind != 'r') || (def->flags & ~KNOWN_FLAGS) ||
	    !(def->kind == 'r') != !(def->flags & PK_EVF_RETURN) ||
	    ((def->flags & PK_EVF_FENTRY) && (def->flags & PK_EVF_RETURN)) ||
	    ((def->flags & PK_EVF_RET_INSN) && !(def->flags & PK_EVF_RETURN)))
		return -EINVAL;
	switch (def->form) {
	case PK_EV_FORM_SYMBOL:
	case PK_EV_FORM_ADDR: form_flags = 0; break;
	case PK_EV_FORM_FILE: form_flags = PK_EVF_USER | PK_EVF_FILE; break;
	case PK_EV_FORM_FILE_SYMBOL: form_flags = PK_EVF_FILE; break;
	default: return -EINVAL;
	}
	if ((def->flags & (PK_EVF_USER | PK_EVF_FILE)) != form_flags ||
	    !pk_ev_good_name(def->group, true) || !pk_ev_good_name(def->event, false))
		return -EINVAL;
	return check_args(def);
}

/* traceprobe_split_symbol_offset(), looking for the sign after any "object:". */
static int split_offset(char *name, long *offset)
{
	char *colon = strrchr(name, ':');
	char *tmp = strpbrk(colon ? colon + 1 : name, "+-");

	*offset = 0;
	if (!tmp)
		return 0;
	if (pk_ev_kstrtol(tmp, 0, offset))
		return -EINVAL;
	*tmp = '\0';
	return 0;
}

int pk_event_resolve(struct pk_event_def *def, const struct pk_event_resolver *r)
{
	char name[PK_EV_MAX_ARGSTR + 1];
	unsigned long addr;
	unsigned int i, k;
	long offset;
	size_t n;
	int ret;

	for (i = 0; i < def->nargs && def->kind != '-'; i++) {
		struct pk_event_arg *a = &def->args[i];

		for (k = 0; k + 1 < a->ncode && k + 1 < PK_EV_MAX_OPS; k++) {
			if (a->code[k].op != PK_FOP_SYMBOL || a->code[k + 1].op != PK_FOP_IMM)
				continue;
			n = pk_ev_strnlen(pk_event_str(def, a->code[k].param), sizeof(name) - 1);
			memcpy(name, pk_event_str(def, a->code[k].param), n);
			name[n] = '\0';
			if (split_offset(name, &offset))
				return -EINVAL;
			ret = r->lookup(r->ctx, name, &addr);
			if (ret)
				return ret < 0 ? ret : -ENOENT;
			a->code[k + 1].imm = addr + (unsigned long)offset;
			a->code[k].size = 1;
		}
	}
	return 0;
}
