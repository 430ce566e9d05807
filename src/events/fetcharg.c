// SPDX-License-Identifier: MIT
/*
 * One fetch argument: "[NAME=]FETCHARG[:TYPE[N]]" compiled into fetch ops.
 *
 * The steps and the column every error points at follow the kernel's
 * traceprobe_parse_probe_arg() (6.18), including where its caret lands a
 * little off (after "+u" and after a dereference, the type's column is
 * counted from inside the outer brace): the point is that a line gets the
 * same report from us as from tracefs. The ops go through a 16-slot buffer
 * whose last slot is END from the start, as the kernel's, so that "too much
 * nested" triggers at the same depth.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "events/ev_int.h"

/* Field names every probe event has already. */
static const char *const reserved_names[] = {
    "common_type", "common_flags", "common_preempt_count", "common_pid",
    "common_tgid", "__probe_ip",   "__probe_ret_ip",	   "__probe_func",
};

static int log_at(struct pk_ev_argctx *ctx, int offset, enum pk_ev_err cause)
{
	return pk_ev_log_err(ctx->log, offset, cause);
}

/* On a kprobe at a function's first instruction ($argN reads the argument). */
static bool at_entry(const struct pk_ev_argctx *ctx)
{
	return (ctx->flags & (PK_EVF_USER | PK_EVF_FENTRY | PK_EVF_RETURN)) == PK_EVF_FENTRY;
}

/* On a kprobe-like return probe ($argN was saved at entry). */
static bool at_return(const struct pk_ev_argctx *ctx)
{
	return (ctx->flags & (PK_EVF_USER | PK_EVF_RETURN)) == PK_EVF_RETURN;
}

/* find_fetch_type(): NULL means the default, x64 on a 64-bit kernel. */
static int find_type(const char *t, unsigned int flags, enum pk_ev_type *type)
{
	unsigned long bits;
	int i;

	if (t && (flags & PK_EVF_USER) && (!strcmp(t, "symbol") || !strcmp(t, "symstr")))
		return -EINVAL;
	if (!t) {
		*type = PK_EVT_X64;
		return 0;
	}
	if (*t == 'b') {
		/* A bitfield's type is its container's: b4@2/32 is a u32. */
		t = strchr(t, '/');
		if (!t || pk_ev_kstrtoul(t + 1, 0, &bits))
			return -EINVAL;
		switch (bits) {
		case 8: *type = PK_EVT_U8; return 0;
		case 16: *type = PK_EVT_U16; return 0;
		case 32: *type = PK_EVT_U32; return 0;
		case 64: *type = PK_EVT_U64; return 0;
		default: return -EINVAL;
		}
	}
	for (i = 0; i < PK_EVT_NR; i++) {
		if (!strcmp(t, pk_ev_types[i].name)) {
			*type = (enum pk_ev_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The entry-data slot of argument @argnum (from 0) of a return probe, in bytes. */
static int entry_slot(struct pk_event_def *def, unsigned int argnum)
{
	unsigned int i;

	for (i = 0; i < def->nentry; i++)
		if (def->entry_arg[i] == argnum)
			return (int)(i * sizeof(unsigned long));
	if (def->nentry >= PK_EV_MAX_ARGS)
		return -ENOSPC;
	def->entry_arg[def->nentry] = (uint16_t)argnum;
	return (int)(def->nentry++ * sizeof(unsigned long));
}

/* parse_probe_vars(): @arg points at the '$'. */
static int parse_vars(struct pk_ev_argctx *ctx, const char *arg, struct pk_fetch_op *code)
{
	enum pk_ev_err cause = PK_EVERR_BAD_VAR;
	unsigned long param;
	int slot;

	arg++;
	if (!strncmp(arg, "retval", 6)) {
		if (!(ctx->flags & PK_EVF_RETURN))
			return log_at(ctx, ctx->offset, PK_EVERR_RETVAL_ON_PROBE);
		code->op = PK_FOP_RETVAL;
		return 0;
	}
	if (!strncmp(arg, "stack", 5)) {
		if (arg[5] == '\0') {
			code->op = PK_FOP_STACKP;
			return 0;
		}
		if (!pk_ev_isdigit(arg[5]) || pk_ev_kstrtoul(arg + 5, 10, &param))
			goto inval;
		if (!(ctx->flags & PK_EVF_USER) && param > PK_EV_MAX_STACK) {
			cause = PK_EVERR_BAD_STACK_NUM;
			goto inval;
		}
		/* The kernel keeps N in an unsigned int. */
		code->op = PK_FOP_STACK;
		code->imm = (uint32_t)param;
		return 0;
	}
	if (!strcmp(arg, "comm") || !strcmp(arg, "COMM")) {
		code->op = PK_FOP_COMM;
		return 0;
	}
	if (!strncmp(arg, "arg", 3)) {
		if (pk_ev_kstrtoul(arg + 3, 10, &param))
			goto inval;
		if (!param || param > PK_EV_MAX_STACK) {
			cause = PK_EVERR_BAD_ARG_NUM;
			goto inval;
		}
		param--;
		if (at_entry(ctx)) {
			code->op = PK_FOP_ARG;
			code->param = (uint32_t)param;
		} else if (at_return(ctx)) {
			slot = entry_slot(ctx->def, (unsigned int)param);
			if (slot < 0) {
				cause = PK_EVERR_TOO_MANY_ARGS;
				goto inval;
			}
			code->op = PK_FOP_EDATA;
			code->offset = slot;
		} else {
			cause = PK_EVERR_NOFENTRY_ARGS;
			goto inval;
		}
		return 0;
	}
inval:
	return log_at(ctx, ctx->offset, cause);
}

static int parse_reg(const char *name, struct pk_fetch_op *code)
{
	unsigned int idx, width;

	if (arch_regs_query_register(name, &idx, &width))
		return -EINVAL;
	code->op = PK_FOP_REG;
	code->param = idx;
	code->size = (uint8_t)width;
	return 0;
}

static int str_to_immediate(const char *s, uint64_t *imm)
{
	unsigned long u;
	long l;
	int ret;

	if (pk_ev_isdigit(s[0])) {
		ret = pk_ev_kstrtoul(s, 0, &u);
		*imm = u;
		return ret;
	}
	if (s[0] == '-' || s[0] == '+') {
		ret = pk_ev_kstrtol(s[0] == '-' ? s : s + 1, 0, &l);
		*imm = (uint64_t)l;
		return ret;
	}
	return -EINVAL;
}

/* parse_probe_arg(): @arg is a writable copy; *@pcode advances to the last op written. */
static int parse_probe_arg(struct pk_ev_argctx *ctx, char *arg, struct pk_fetch_op **pcode,
			   struct pk_fetch_op *end)
{
	struct pk_fetch_op *code = *pcode;
	int deref = PK_FOP_DEREF, cur, ret = 0;
	unsigned long param;
	unsigned int off;
	long offset = 0;
	size_t len;
	char *tmp;

	switch (arg[0]) {
	case '$': ret = parse_vars(ctx, arg, code); break;
	case '%':
		if (parse_reg(arg + 1, code))
			ret = log_at(ctx, ctx->offset, PK_EVERR_BAD_REG_NAME);
		break;
	case '@':
		if (pk_ev_isdigit(arg[1])) {
			if (pk_ev_kstrtoul(arg + 1, 0, &param)) {
				ret = log_at(ctx, ctx->offset, PK_EVERR_BAD_MEM_ADDR);
				break;
			}
			code->op = PK_FOP_IMM;
			code->imm = param;
		} else if (arg[1] == '+') {
			if (!(ctx->flags & PK_EVF_FILE))
				return log_at(ctx, ctx->offset, PK_EVERR_FILE_ON_KPROBE);
			if (pk_ev_kstrtol(arg + 2, 0, &offset)) {
				ret = log_at(ctx, ctx->offset, PK_EVERR_BAD_FILE_OFFS);
				break;
			}
			code->op = PK_FOP_FOFFS;
			code->imm = (uint64_t)offset;
			/* 6.18 reads at the translated offset itself, nothing added. */
			offset = 0;
		} else {
			if (ctx->flags & PK_EVF_USER)
				return log_at(ctx, ctx->offset, PK_EVERR_SYM_ON_UPROBE);
			/* A holder for the name, then the address it resolves to. */
			off = pk_ev_pool_add(ctx->def, arg + 1, strlen(arg + 1));
			if (!off)
				return log_at(ctx, ctx->offset, PK_EVERR_LINE_TOO_LONG);
			code->op = PK_FOP_SYMBOL;
			code->param = off;
			if (++code == end)
				return log_at(ctx, ctx->offset, PK_EVERR_TOO_MANY_OPS);
			code->op = PK_FOP_IMM;
			code->imm = 0;
		}
		if (++code == end)
			return log_at(ctx, ctx->offset, PK_EVERR_TOO_MANY_OPS);
		*pcode = code;
		code->op = PK_FOP_DEREF;
		code->offset = offset;
		break;
	case '+':
	case '-':
		if (arg[1] == 'u') {
			/* The kernel does not count the 'u' in the columns that follow. */
			deref = PK_FOP_UDEREF;
			arg[1] = arg[0];
			arg++;
		}
		if (arg[0] == '+')
			arg++;
		tmp = strchr(arg, '(');
		if (!tmp)
			return log_at(ctx, ctx->offset, PK_EVERR_DEREF_NEED_BRACE);
		*tmp = '\0';
		if (pk_ev_kstrtol(arg, 0, &offset)) {
			ret = log_at(ctx, ctx->offset, PK_EVERR_BAD_DEREF_OFFS);
			break;
		}
		ctx->offset += (int)(tmp + 1 - arg) + (arg[0] != '-' ? 1 : 0);
		arg = tmp + 1;
		tmp = strrchr(arg, ')');
		if (!tmp)
			return log_at(ctx, ctx->offset + (int)strlen(arg),
				      PK_EVERR_DEREF_OPEN_BRACE);
		/* Whatever follows the last ')' is ignored, as by the kernel. */
		*tmp = '\0';
		cur = ctx->offset;
		ret = parse_probe_arg(ctx, arg, &code, end);
		if (ret)
			break;
		ctx->offset = cur;
		if (code->op == PK_FOP_COMM || code->op == PK_FOP_DATA)
			return log_at(ctx, ctx->offset, PK_EVERR_COMM_CANT_DEREF);
		if (++code == end)
			return log_at(ctx, ctx->offset, PK_EVERR_TOO_MANY_OPS);
		*pcode = code;
		code->op = (uint8_t)deref;
		code->offset = offset;
		break;
	case '\\':
		if (arg[1] == '"') {
			len = strlen(arg + 2);
			if (!len || arg[2 + len - 1] != '"')
				return log_at(ctx, ctx->offset + 2 + (int)len,
					      PK_EVERR_IMMSTR_NO_CLOSE);
			off = pk_ev_pool_add(ctx->def, arg + 2, len - 1);
			if (!off)
				return log_at(ctx, ctx->offset, PK_EVERR_LINE_TOO_LONG);
			code->op = PK_FOP_DATA;
			code->param = off;
		} else if (str_to_immediate(arg + 1, &code->imm)) {
			ret = log_at(ctx, ctx->offset + 1, PK_EVERR_BAD_IMM);
		} else {
			code->op = PK_FOP_IMM;
		}
		break;
	default:
		/* BTF variables and typecasts: the kernel here has no BTF arguments. */
		if (pk_ev_isalpha(arg[0]) || arg[0] == '_' || arg[0] == '(')
			return log_at(ctx, ctx->offset, PK_EVERR_NOSUP_BTFARG);
		break;
	}
	if (!ret && code->op == PK_FOP_NOP)
		ret = log_at(ctx, ctx->offset, PK_EVERR_BAD_FETCH_ARG);
	return ret;
}

/* __parse_bitfield_probe_arg(): "b<width>@<offset>/<container>". */
static int parse_bitfield(const char *bf, enum pk_ev_type type, struct pk_fetch_op **pcode)
{
	struct pk_fetch_op *code = *pcode;
	unsigned long bw, bo, bits = pk_ev_types[type].size * 8u;
	const char *tail;

	if (*bf != 'b')
		return 0;
	bw = pk_ev_simple_strtoul(bf + 1, &tail, 0);
	if (bw == 0 || *tail != '@')
		return -EINVAL;
	bf = tail + 1;
	bo = pk_ev_simple_strtoul(bf, &tail, 0);
	if (tail == bf || *tail != '/')
		return -EINVAL;
	code++;
	if (code->op != PK_FOP_NOP)
		return -EINVAL;
	*pcode = code;
	if (bw > bits || bo > bits || bw + bo > bits)
		return -EINVAL;
	code->op = PK_FOP_MOD_BF;
	code->size = pk_ev_types[type].size;
	code->lshift = (uint8_t)(bits - (bw + bo));
	code->rshift = (uint8_t)(bits - bw);
	return 0;
}

static bool op_in(const struct pk_fetch_op *code, const uint8_t *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (code->op == ops[i])
			return true;
	return false;
}

/* finalize_fetch_insn(): the store, bitfield and loop ops, then END. */
static int finalize(struct pk_ev_argctx *ctx, struct pk_fetch_op *code, struct pk_event_arg *a,
		    const char *t, int toff)
{
	static const uint8_t symstr_ok[] = {PK_FOP_REG, PK_FOP_STACK, PK_FOP_RETVAL, PK_FOP_ARG,
					    PK_FOP_DEREF};
	static const uint8_t string_ok[] = {PK_FOP_DEREF, PK_FOP_UDEREF, PK_FOP_IMM, PK_FOP_COMM,
					    PK_FOP_DATA};
	static const uint8_t keep[] = {PK_FOP_IMM, PK_FOP_COMM, PK_FOP_DATA};
	static const uint8_t loopable[] = {PK_FOP_ST_MEM, PK_FOP_ST_STRING, PK_FOP_ST_USTRING};
	enum pk_ev_type type = (enum pk_ev_type)a->type;
	struct pk_fetch_op *scode;

	if (pk_ev_types[type].is_string) {
		if (type == PK_EVT_SYMSTR) {
			if (!op_in(code, symstr_ok, sizeof(symstr_ok)))
				return log_at(ctx, ctx->offset + toff, PK_EVERR_BAD_SYMSTRING);
		} else if (!op_in(code, string_ok, sizeof(string_ok))) {
			return log_at(ctx, ctx->offset + toff, PK_EVERR_BAD_STRING);
		}
		/*
		 * An immediate, $comm and a string constant are the string's
		 * address already, a symstr wants the value, an array's last
		 * dereference reads the pointers: keep that op, store after it.
		 */
		if (type == PK_EVT_SYMSTR || op_in(code, keep, sizeof(keep)) || a->count) {
			code++;
			if (code->op != PK_FOP_NOP)
				return log_at(ctx, ctx->offset, PK_EVERR_TOO_MANY_OPS);
		}
		if (type == PK_EVT_USTRING || code->op == PK_FOP_UDEREF)
			code->op = PK_FOP_ST_USTRING;
		else if (type == PK_EVT_SYMSTR)
			code->op = PK_FOP_ST_SYMSTR;
		else
			code->op = PK_FOP_ST_STRING;
		a->dynamic = 1;
	} else if (code->op == PK_FOP_DEREF) {
		code->op = PK_FOP_ST_MEM;
	} else if (code->op == PK_FOP_UDEREF) {
		code->op = PK_FOP_ST_UMEM;
	} else {
		code++;
		if (code->op != PK_FOP_NOP)
			return log_at(ctx, ctx->offset, PK_EVERR_TOO_MANY_OPS);
		code->op = PK_FOP_ST_RAW;
	}
	code->size = pk_ev_types[type].size;
	scode = code;

	if (t && parse_bitfield(t, type, &code))
		return log_at(ctx, ctx->offset + toff, PK_EVERR_BAD_BITFIELD);

	if (a->count) {
		if (!op_in(scode, loopable, sizeof(loopable)))
			return log_at(ctx, ctx->offset + toff, PK_EVERR_BAD_STRING);
		code++;
		if (code->op != PK_FOP_NOP)
			return log_at(ctx, ctx->offset, PK_EVERR_TOO_MANY_OPS);
		code->op = PK_FOP_LP_ARRAY;
		code->param = a->count;
	}
	code++;
	code->op = PK_FOP_END;
	return 0;
}

/* traceprobe_parse_probe_arg_body(): @body at column ctx->offset of the word. */
static int parse_body(struct pk_ev_argctx *ctx, struct pk_event_arg *a, const char *body)
{
	struct pk_fetch_op ops[PK_EV_MAX_OPS], *code = ops;
	char arg[PK_EV_MAX_ARGSTR + 1];
	char *t = NULL, *t2, *t3;
	enum pk_ev_type type;
	unsigned int count = 0, n;
	size_t len = strlen(body);
	int toff, ret;

	if (len > PK_EV_MAX_ARGSTR)
		return log_at(ctx, ctx->offset, PK_EVERR_ARG_TOO_LONG);
	if (len == 0)
		return log_at(ctx, ctx->offset, PK_EVERR_NO_ARG_BODY);
	memcpy(arg, body, len + 1);
	a->comm = (uint16_t)pk_ev_pool_add(ctx->def, body, len);
	if (!a->comm)
		return log_at(ctx, ctx->offset, PK_EVERR_LINE_TOO_LONG);

	/* parse_probe_arg_type() */
	t = strchr(arg, ':');
	if (t) {
		*t++ = '\0';
		t2 = strchr(t, '[');
		if (t2) {
			*t2++ = '\0';
			t3 = strchr(t2, ']');
			if (!t3)
				return log_at(ctx, ctx->offset + (int)(t2 + strlen(t2) - arg),
					      PK_EVERR_ARRAY_NO_CLOSE);
			if (t3[1] != '\0')
				return log_at(ctx, ctx->offset + (int)(t3 + 1 - arg),
					      PK_EVERR_BAD_ARRAY_SUFFIX);
			*t3 = '\0';
			if (pk_ev_kstrtouint(t2, 0, &count) || !count)
				return log_at(ctx, ctx->offset + (int)(t2 - arg),
					      PK_EVERR_BAD_ARRAY_NUM);
			if (count > PK_EV_MAX_ARRAY)
				return log_at(ctx, ctx->offset + (int)(t2 - arg),
					      PK_EVERR_ARRAY_TOO_BIG);
		}
	}
	toff = t ? (int)(t - arg) : 0;
	if (!strcmp(arg, "$comm") || !strcmp(arg, "$COMM") || !strncmp(arg, "\\\"", 2)) {
		if (count || (t && strcmp(t, "string")))
			return log_at(ctx, ctx->offset + toff, PK_EVERR_NEED_STRING_TYPE);
		type = PK_EVT_STRING;
	} else if (find_type(t, ctx->flags, &type)) {
		return log_at(ctx, ctx->offset + toff, PK_EVERR_BAD_TYPE);
	}
	a->type = (uint8_t)type;
	a->count = (uint16_t)count;

	memset(ops, 0, sizeof(ops));
	ops[PK_EV_MAX_OPS - 1].op = PK_FOP_END;
	ret = parse_probe_arg(ctx, arg, &code, &ops[PK_EV_MAX_OPS - 1]);
	if (ret)
		return ret;

	n = pk_ev_types[type].size * (count ? count : 1);
	a->offset = ctx->def->fixed_size;
	a->size = (uint16_t)n;
	if (ctx->def->fixed_size + n > PK_EV_MAX_EVENT_SIZE)
		return log_at(ctx, ctx->offset, PK_EVERR_EVENT_TOO_BIG);
	ctx->def->fixed_size = (uint16_t)(ctx->def->fixed_size + n);

	ret = finalize(ctx, code, a, t, toff);
	if (ret)
		return ret;
	for (n = 0; n < PK_EV_MAX_OPS; n++) {
		a->code[n] = ops[n];
		if (ops[n].op == PK_FOP_END)
			break;
	}
	a->ncode = (uint8_t)(n + 1);
	return 0;
}

int pk_ev_parse_arg(struct pk_ev_argctx *ctx, unsigned int i, const char *word)
{
	struct pk_event_def *def = ctx->def;
	struct pk_event_arg *a = &def->args[i];
	const char *body = strchr(word, '=');
	size_t k;

	if (body) {
		if (body - word > PK_EV_MAX_ARG_NAME)
			return log_at(ctx, 0, PK_EVERR_ARG_NAME_TOO_LONG);
		if (body == word)
			return log_at(ctx, 0, PK_EVERR_NO_ARG_NAME);
		memcpy(a->name, word, (size_t)(body - word));
		a->name[body - word] = '\0';
		body++;
	} else {
		snprintf(a->name, sizeof(a->name), "arg%u", i + 1);
		body = word;
	}
	if (!pk_ev_good_name(a->name, false))
		return log_at(ctx, 0, PK_EVERR_BAD_ARG_NAME);
	for (k = 0; k < sizeof(reserved_names) / sizeof(reserved_names[0]); k++)
		if (!strcmp(a->name, reserved_names[k]))
			return log_at(ctx, 0, PK_EVERR_USED_ARG_NAME);
	for (k = 0; k < i; k++)
		if (!strcmp(a->name, def->args[k].name))
			return log_at(ctx, 0, PK_EVERR_USED_ARG_NAME);
	ctx->offset = (int)(body - word);
	return parse_body(ctx, a, body);
}
