// SPDX-License-Identifier: MIT
/*
 * A variable's DWARF location at one address, as a fetch argument of the
 * kprobe_events language: a register ("%di"), memory at a register plus an
 * offset ("-20(%bp)"; DW_OP_fbreg through the frame base, itself through the
 * call frame information when it is DW_OP_call_frame_cfa), dereferences
 * ("+8(+0(%sp))"), a constant ("\7"); then members ("->", "."), indexes
 * and a type. What a fetch argument cannot express (a value computed from
 * registers, pieces, entry values, floats) is refused, naming the variable
 * and its location, rather than fetched as something else.
 */
#include <dwarf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "cli/probe_int.h"

#define TEXT 256

/* A value being located: either itself a fetch expression, or in memory at base + off. */
struct val {
	int in_mem;
	int is_static;	 /* in memory at the file offset @+off, not at base + off */
	char base[TEXT]; /* a fetch expression: the value, or the memory's base address */
	long off;
	Dwarf_Die type;
	int has_type;
};

/* The fetch expression of @v's value; -E2BIG if it does not fit @n. */
static int render(const struct val *v, char *out, size_t n)
{
	int l;

	if (!v->in_mem)
		l = snprintf(out, n, "%s", v->base);
	else if (v->is_static)
		l = snprintf(out, n, "@+0x%lx", (unsigned long)v->off);
	else
		l = snprintf(out, n, "%s%ld(%s)", v->off < 0 ? "" : "+", v->off, v->base);
	return l < 0 || (size_t)l >= n ? -E2BIG : 0;
}

/* @v's value becomes the base address of memory to read, at offset 0. */
static int to_base(struct val *v)
{
	char text[TEXT];

	if (render(v, text, sizeof(text)))
		return -E2BIG;
	memcpy(v->base, text, sizeof(text));
	v->off = 0;
	v->in_mem = 1;
	v->is_static = 0;
	return 0;
}

static const char *op_name(unsigned int atom)
{
	const char *s = NULL;

	switch (atom) {
#define K(n)                                                                                       \
	case DW_OP_##n: s = "DW_OP_" #n; break;
		K(addr)
		K(deref)
		K(piece)
		K(bit_piece)
		K(stack_value)
		K(entry_value)
		K(GNU_entry_value)
		K(implicit_value)
		K(implicit_pointer)
		K(GNU_implicit_pointer)
		K(plus)
		K(plus_uconst)
		K(minus)
		K(and)
		K(or)
		K(mul)
		K(neg)
		K(not )
		K(shl)
		K(shr)
		K(fbreg)
		K(call_frame_cfa)
		K(regx)
		K(bregx)
		K(deref_size)
		K(convert)
		K(GNU_parameter_ref)
#undef K
	}
	return s;
}

/* @ops as readelf writes them, for a refusal. */
static void describe(const Dwarf_Op *ops, size_t n, char *out, size_t size)
{
	size_t i, o = 0;

	out[0] = 0;
	for (i = 0; i < n && o < size; i++) {
		unsigned int a = ops[i].atom;
		const char *name = op_name(a);
		const char *sep = i ? "; " : "";

		if (a >= DW_OP_reg0 && a <= DW_OP_reg31)
			o += (size_t)snprintf(out + o, size - o, "%sDW_OP_reg%u", sep,
					      a - DW_OP_reg0);
		else if (a >= DW_OP_breg0 && a <= DW_OP_breg31)
			o += (size_t)snprintf(out + o, size - o, "%sDW_OP_breg%u %ld", sep,
					      a - DW_OP_breg0, (long)ops[i].number);
		else if (a >= DW_OP_lit0 && a <= DW_OP_lit31)
			o += (size_t)snprintf(out + o, size - o, "%sDW_OP_lit%u", sep,
					      a - DW_OP_lit0);
		else if (name)
			o += (size_t)snprintf(out + o, size - o, "%s%s", sep, name);
		else
			o += (size_t)snprintf(out + o, size - o, "%sDW_OP_0x%x", sep, a);
	}
}

static int reg_name(unsigned int dwreg, char *out, size_t n)
{
	const char *name = arch_dwarf_reg_name(dwreg);

	if (!name)
		return -EOPNOTSUPP;
	snprintf(out, n, "%%%s", name);
	return 0;
}

/* The frame base of @p's function at its address: a register and an offset from it. */
static int frame_base(struct pk_dbg *d, const struct pk_ppoint *p, char *reg, size_t rn, long *off)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t n;
	Dwarf_CFI *cfis[2] = {d->cfi_dbg, d->cfi_eh};
	unsigned int i;

	if (!dwarf_attr_integrate((Dwarf_Die *)&p->func, DW_AT_frame_base, &a) ||
	    dwarf_getlocation_addr(&a, p->addr, &ops, &n, 1) != 1 || n != 1)
		return -EOPNOTSUPP;
	if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
		*off = (long)ops[0].number;
		return reg_name(ops[0].atom - DW_OP_breg0, reg, rn);
	}
	if (ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) {
		*off = 0;
		return reg_name(ops[0].atom - DW_OP_reg0, reg, rn);
	}
	if (ops[0].atom != DW_OP_call_frame_cfa)
		return -EOPNOTSUPP;
	for (i = 0; i < 2; i++) {
		Dwarf_Frame *frame;
		Dwarf_Op *cfa;
		size_t nc;
		int ret = -EOPNOTSUPP;

		if (!cfis[i] || dwarf_cfi_addrframe(cfis[i], p->addr, &frame))
			continue;
		if (!dwarf_frame_cfa(frame, &cfa, &nc) && nc == 1) {
			if (cfa[0].atom == DW_OP_bregx) {
				*off = (long)cfa[0].number2;
				ret = reg_name((unsigned int)cfa[0].number, reg, rn);
			} else if (cfa[0].atom >= DW_OP_breg0 && cfa[0].atom <= DW_OP_breg31) {
				*off = (long)cfa[0].number;
				ret = reg_name(cfa[0].atom - DW_OP_breg0, reg, rn);
			}
		}
		free(frame);
		if (!ret)
			return 0;
	}
	return -EOPNOTSUPP;
}

static void var_where(const struct pk_ppoint *p, char *out, size_t n)
{
	const char *fn = dwarf_diename((Dwarf_Die *)&p->func);
	Dwarf_Addr low = 0;

	dwarf_entrypc((Dwarf_Die *)&p->func, &low);
	snprintf(out, n, "%s+%lu", fn ? fn : "?", (unsigned long)(p->addr - low));
}

/* @var's location at @p into @v. */
static int locate(struct pk_dbg *d, const struct pk_ppoint *p, Dwarf_Die *var, struct val *v,
		  char *why, size_t n)
{
	const char *name = dwarf_diename(var);
	char where[128], desc[256], reg[8];
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	Dwarf_Word cv;
	size_t len, i;
	long fboff;
	int addr = 0, ret;

	var_where(p, where, sizeof(where));
	if (!dwarf_attr_integrate(var, DW_AT_location, &a)) {
		if (dwarf_attr_integrate(var, DW_AT_const_value, &a) && !dwarf_formudata(&a, &cv)) {
			snprintf(v->base, sizeof(v->base), "\\%lu", (unsigned long)cv);
			return 0;
		}
		return pk_pp_fail(why, n, -EOPNOTSUPP,
				  "'%s' has no location at %s: the compiler optimized it out", name,
				  where);
	}
	ret = dwarf_getlocation_addr(&a, p->addr, &ops, &len, 1);
	if (ret <= 0 || !len)
		return pk_pp_fail(why, n, -EOPNOTSUPP,
				  "'%s' is optimized out at %s (0x%lx): its location list does not "
				  "cover this address",
				  name, where, (unsigned long)p->addr);
	describe(ops, len, desc, sizeof(desc));
	for (i = 0; i < len; i++) {
		unsigned int op = ops[i].atom;

		if (i == 0 && op >= DW_OP_reg0 && op <= DW_OP_reg31 && len == 1) {
			if (!reg_name(op - DW_OP_reg0, v->base, sizeof(v->base)))
				return 0;
		} else if (i == 0 && op == DW_OP_regx && len == 1) {
			if (!reg_name((unsigned int)ops[0].number, v->base, sizeof(v->base)))
				return 0;
		} else if (i == 0 &&
			   ((op >= DW_OP_breg0 && op <= DW_OP_breg31) || op == DW_OP_bregx)) {
			ret = op == DW_OP_bregx
				  ? reg_name((unsigned int)ops[0].number, reg, sizeof(reg))
				  : reg_name(op - DW_OP_breg0, reg, sizeof(reg));
			if (ret)
				break;
			snprintf(v->base, sizeof(v->base), "%s", reg);
			v->off = (long)(op == DW_OP_bregx ? ops[0].number2 : ops[0].number);
			addr = 1;
			continue;
		} else if (i == 0 && op == DW_OP_fbreg) {
			if (frame_base(d, p, reg, sizeof(reg), &fboff))
				return pk_pp_fail(
				    why, n, -EOPNOTSUPP,
				    "'%s' is at the frame base %+ld (%s), and the frame "
				    "base of %s cannot be found from registers there",
				    name, (long)ops[0].number, desc, where);
			snprintf(v->base, sizeof(v->base), "%s", reg);
			v->off = fboff + (long)ops[0].number;
			addr = 1;
			continue;
		} else if (i == 0 && op == DW_OP_addr && len == 1) {
			unsigned long off;

			if (pk_dbg_static_offset(d, ops[0].number, &off))
				break;
			v->in_mem = v->is_static = 1;
			v->off = (long)off;
			return 0;
		} else if (i == 0 && op >= DW_OP_lit0 && op <= DW_OP_lit31 && len == 2 &&
			   ops[1].atom == DW_OP_stack_value) {
			snprintf(v->base, sizeof(v->base), "\\%u", op - DW_OP_lit0);
			return 0;
		} else if (addr && op == DW_OP_plus_uconst) {
			v->off += (long)ops[i].number;
			continue;
		} else if (addr && op == DW_OP_deref) {
			v->in_mem = 1;
			if (to_base(v))
				break;
			continue;
		} else if (addr && op == DW_OP_stack_value && i == len - 1 && v->off == 0) {
			/* The value is the register itself: "DW_OP_breg5 0; DW_OP_stack_value". */
			return 0;
		}
		break;
	}
	if (i == len && addr) {
		v->in_mem = 1;
		return 0;
	}
	if (ops[len - 1].atom == DW_OP_stack_value && len >= 2 &&
	    ((ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) ||
	     ops[0].atom == DW_OP_bregx))
		return pk_pp_fail(
		    why, n, -EOPNOTSUPP,
		    "'%s' is not stored anywhere at %s: its value is computed (%s), "
		    "which a fetch argument cannot express (a memory read there would "
		    "give a wrong value)",
		    name, where, desc);
	return pk_pp_fail(why, n, -EOPNOTSUPP,
			  "'%s' at %s has location '%s', which a fetch argument cannot express",
			  name, where, desc);
}

static int peeled_type(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	Dwarf_Die t;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return -ENOENT;
	return dwarf_peel_type(&t, out) ? -ENOENT : 0;
}

static int find_member(Dwarf_Die *st, const char *field, Dwarf_Die *member, long *off)
{
	Dwarf_Die child;
	Dwarf_Attribute a;
	Dwarf_Word w;

	if (dwarf_child(st, &child))
		return -ENOENT;
	do {
		const char *name = dwarf_diename(&child);

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		*off = 0;
		if (dwarf_attr(&child, DW_AT_data_member_location, &a) && !dwarf_formudata(&a, &w))
			*off = (long)w;
		if (name && !strcmp(name, field)) {
			*member = child;
			return 0;
		}
		if (!name) { /* anonymous struct or union: its members are the parent's */
			Dwarf_Die t;
			long inner;

			if (!peeled_type(&child, &t) && !find_member(&t, field, member, &inner)) {
				*off += inner;
				return 0;
			}
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -ENOENT;
}

/* One "->f", ".f" or "[n]" step on @v; @s points at it; returns the rest, or NULL (@why). */
static const char *step(struct val *v, const char *s, const char *var, char *last, size_t lastn,
			char *why, size_t n)
{
	int tag = dwarf_tag(&v->type), arrow = s[0] == '-';
	char field[128];
	Dwarf_Die member, elem;
	Dwarf_Word size;
	long off, idx;
	size_t l;
	char *end;

	if (s[0] == '[') {
		idx = strtol(s + 1, &end, 0);
		if (end == s + 1 || *end != ']') {
			pk_pp_fail(why, n, -EINVAL, "'%s': an index is a number in []", var);
			return NULL;
		}
		if ((tag != DW_TAG_array_type && tag != DW_TAG_pointer_type) ||
		    peeled_type(&v->type, &elem)) {
			pk_pp_fail(why, n, -EINVAL, "'%s': only an array or a pointer has [%ld]",
				   var, idx);
			return NULL;
		}
		size = 0;
		if (dwarf_aggregate_size(&elem, &size)) {
			pk_pp_fail(why, n, -EINVAL, "'%s': the element's size is unknown", var);
			return NULL;
		}
		if (tag == DW_TAG_array_type && !v->in_mem) {
			pk_pp_fail(why, n, -EOPNOTSUPP, "'%s': an array held in a register", var);
			return NULL;
		}
		if (tag == DW_TAG_pointer_type && to_base(v)) {
			pk_pp_fail(why, n, -E2BIG, "'%s': too deep", var);
			return NULL;
		}
		v->off += idx * (long)size;
		v->type = elem;
		return end + 1;
	}
	s += arrow ? 2 : 1;
	l = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (!l || l >= sizeof(field)) {
		pk_pp_fail(why, n, -EINVAL, "'%s': a member name follows '%s'", var,
			   arrow ? "->" : ".");
		return NULL;
	}
	memcpy(field, s, l);
	field[l] = 0;
	if (arrow) {
		if (tag != DW_TAG_pointer_type || peeled_type(&v->type, &elem)) {
			pk_pp_fail(why, n, -EINVAL,
				   "'%s': '->%s' on something that is not a pointer", var, field);
			return NULL;
		}
		if (to_base(v)) {
			pk_pp_fail(why, n, -E2BIG, "'%s': too deep", var);
			return NULL;
		}
		v->type = elem;
	} else if (tag == DW_TAG_pointer_type) {
		pk_pp_fail(why, n, -EINVAL, "'%s': '%s' is a pointer: use '->%s'", var, var, field);
		return NULL;
	} else if (!v->in_mem) {
		pk_pp_fail(why, n, -EOPNOTSUPP, "'%s': a structure held in a register", var);
		return NULL;
	}
	tag = dwarf_tag(&v->type);
	if ((tag != DW_TAG_structure_type && tag != DW_TAG_union_type) ||
	    find_member(&v->type, field, &member, &off)) {
		pk_pp_fail(why, n, -ENOENT, "'%s': no member '%s' in its type", var, field);
		return NULL;
	}
	if (dwarf_hasattr(&member, DW_AT_bit_size)) {
		pk_pp_fail(why, n, -EOPNOTSUPP, "'%s': '%s' is a bit field", var, field);
		return NULL;
	}
	v->off += off;
	if (peeled_type(&member, &v->type)) {
		pk_pp_fail(why, n, -ENOENT, "'%s': '%s' has no type", var, field);
		return NULL;
	}
	snprintf(last, lastn, "%s", field);
	return s + l;
}

/* The fetch type for @t ("s32", "x64", "u8[16]"), or -EOPNOTSUPP. */
static int fetch_type(Dwarf_Die *t, char *out, size_t n)
{
	Dwarf_Attribute a;
	Dwarf_Word enc = DW_ATE_unsigned, size = 0;
	Dwarf_Die elem;
	int tag = dwarf_tag(t);

	if (tag == DW_TAG_pointer_type) {
		snprintf(out, n, "x64");
		return 0;
	}
	if (tag == DW_TAG_array_type) {
		char inner[32];
		Dwarf_Word total = 0, esize = 0;

		if (peeled_type(t, &elem) || fetch_type(&elem, inner, sizeof(inner)) ||
		    strchr(inner, '[') || dwarf_aggregate_size(t, &total) ||
		    dwarf_aggregate_size(&elem, &esize) || !esize || total / esize > 64)
			return -EOPNOTSUPP;
		snprintf(out, n, "%s[%lu]", inner, (unsigned long)(total / esize));
		return 0;
	}
	if (tag != DW_TAG_base_type && tag != DW_TAG_enumeration_type)
		return -EOPNOTSUPP;
	if (dwarf_attr(t, DW_AT_encoding, &a))
		dwarf_formudata(&a, &enc);
	if (dwarf_aggregate_size(t, &size) || (size != 1 && size != 2 && size != 4 && size != 8))
		return -EOPNOTSUPP;
	switch (enc) {
	case DW_ATE_signed:
	case DW_ATE_signed_char: snprintf(out, n, "s%lu", (unsigned long)size * 8); return 0;
	case DW_ATE_unsigned:
	case DW_ATE_unsigned_char:
	case DW_ATE_boolean: snprintf(out, n, "u%lu", (unsigned long)size * 8); return 0;
	}
	return -EOPNOTSUPP;
}

/* Is @t a char pointer or a char array (what :string can read)? */
static int stringish(Dwarf_Die *t, int *is_array)
{
	Dwarf_Die elem;
	Dwarf_Word size = 0;
	int tag = dwarf_tag(t);

	*is_array = tag == DW_TAG_array_type;
	if (tag != DW_TAG_pointer_type && tag != DW_TAG_array_type)
		return 0;
	if (peeled_type(t, &elem))
		return tag == DW_TAG_pointer_type; /* void *: taken at the user's word */
	return dwarf_tag(&elem) == DW_TAG_base_type && !dwarf_aggregate_size(&elem, &size) &&
	       size == 1;
}

/* A unit's variable @name that has a location (a definition, not a declaration). */
static int lookup_static(Dwarf_Die *cu, const char *name, Dwarf_Die *out)
{
	Dwarf_Die child;

	if (dwarf_child(cu, &child))
		return -ENOENT;
	do {
		const char *n = dwarf_diename(&child);

		if (dwarf_tag(&child) == DW_TAG_variable && n && !strcmp(n, name) &&
		    dwarf_hasattr_integrate(&child, DW_AT_location)) {
			*out = child;
			return 0;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -ENOENT;
}

/* Looks @name up in @scope's variables at @addr, innermost block first. */
static int lookup(Dwarf_Die *scope, Dwarf_Addr addr, const char *name, Dwarf_Die *out)
{
	Dwarf_Die child;

	if (dwarf_child(scope, &child))
		return -ENOENT;
	do {
		int tag = dwarf_tag(&child);

		if (tag == DW_TAG_lexical_block && dwarf_haspc(&child, addr) == 1 &&
		    !lookup(&child, addr, name, out))
			return 0;
	} while (dwarf_siblingof(&child, &child) == 0);
	dwarf_child(scope, &child);
	do {
		int tag = dwarf_tag(&child);
		const char *n = dwarf_diename(&child);

		if ((tag == DW_TAG_formal_parameter || tag == DW_TAG_variable) && n &&
		    !strcmp(n, name)) {
			*out = child;
			return 0;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -ENOENT;
}

/* A variable of static storage named @name: in @cu first, then in any unit. */
static int lookup_global(struct pk_dbg *d, Dwarf_Die *cu, const char *name, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf_Die unit, child;

	if (!lookup_static(cu, name, out))
		return 0;
	while (dwarf_nextcu(d->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		if (dwarf_offdie(d->dw, off + hsize, &unit) && dwarf_child(&unit, &child) == 0 &&
		    !lookup_static(&unit, name, out))
			return 0;
		off = next;
	}
	return -ENOENT;
}

static int emit(char *out, size_t outn, const char *name, const char *text, const char *type,
		char *why, size_t n)
{
	int l = snprintf(out, outn, "%s=%s:%s", name, text, type);

	if (l < 0 || (size_t)l >= outn)
		return pk_pp_fail(why, n, -E2BIG, "'%s': the argument is too long", name);
	return 0;
}

int pk_pp_fetch(struct pk_dbg *d, const struct pk_ppoint *p, const struct pk_pp_arg *a, char *out,
		size_t outn, char *why, size_t n)
{
	const char *e = a->expr, *s;
	char var[128], last[128] = "", text[TEXT], type[40], name[160];
	struct val v;
	Dwarf_Die die;
	size_t l;
	int is_array, ret, i;

	if (strchr("%@+-\\$", e[0])) {
		/* A fetch argument of the kprobe_events language, as is ($retval too). */
		snprintf(out, outn, "%s", a->text);
		return 0;
	}
	l = strspn(e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	if (!l || l >= sizeof(var))
		return pk_pp_fail(why, n, -EINVAL, "'%s' is not a variable name", a->text);
	memcpy(var, e, l);
	var[l] = 0;
	if (lookup((Dwarf_Die *)&p->inst, p->addr, var, &die) &&
	    lookup_global(d, (Dwarf_Die *)&p->cu, var, &die)) {
		char where[128];

		var_where(p, where, sizeof(where));
		return pk_pp_fail(why, n, -ENOENT, "no variable '%s' in scope in %s at %s%s", var,
				  p->name, where, p->inlined ? " (an inlined copy)" : "");
	}
	memset(&v, 0, sizeof(v));
	ret = locate(d, p, &die, &v, why, n);
	if (ret)
		return ret;
	if (peeled_type(&die, &v.type))
		return pk_pp_fail(why, n, -EOPNOTSUPP, "'%s' has no type", var);
	for (s = e + l; *s;) {
		if (strncmp(s, "->", 2) && s[0] != '.' && s[0] != '[')
			return pk_pp_fail(why, n, -EINVAL, "'%s': unexpected '%s'", a->text, s);
		s = step(&v, s, e, last, sizeof(last), why, n);
		if (!s)
			return -EINVAL;
	}
	if (a->name)
		snprintf(name, sizeof(name), "%s", a->name);
	else if (last[0])
		snprintf(name, sizeof(name), "%s", last);
	else if (a->type)
		snprintf(name, sizeof(name), "%s_%s", var, a->type);
	else
		snprintf(name, sizeof(name), "%s", var);
	for (i = 0; name[i]; i++)
		if (!(name[i] == '_' || (name[i] >= '0' && name[i] <= '9') ||
		      ((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z')))
			name[i] = '_';
	if (a->type && (!strcmp(a->type, "string") || !strcmp(a->type, "ustring"))) {
		if (!stringish(&v.type, &is_array))
			return pk_pp_fail(why, n, -EINVAL,
					  "'%s': :%s takes a char pointer or a char array", a->expr,
					  a->type);
		if (is_array && !v.in_mem)
			return pk_pp_fail(why, n, -EOPNOTSUPP, "'%s': an array held in a register",
					  a->expr);
		/* A pointer's string starts where it points. */
		if ((!is_array && to_base(&v)) || render(&v, text, sizeof(text)))
			return pk_pp_fail(why, n, -E2BIG, "'%s': too deep", a->expr);
		return emit(out, outn, name, text, a->type, why, n);
	}
	if (a->type) {
		snprintf(type, sizeof(type), "%s", a->type);
	} else if (fetch_type(&v.type, type, sizeof(type))) {
		char tn[128];

		pk_pp_type_name(&die, tn, sizeof(tn));
		return pk_pp_fail(why, n, -EOPNOTSUPP,
				  "'%s' (%s%s) has no fetch type: name a member or give one "
				  "(:x64, :string...)",
				  a->expr, last[0] ? "a member of " : "", tn);
	}
	if (strchr(type, '[') && !v.in_mem)
		return pk_pp_fail(why, n, -EOPNOTSUPP, "'%s': an array held in a register",
				  a->expr);
	if (render(&v, text, sizeof(text)))
		return pk_pp_fail(why, n, -E2BIG, "'%s': too deep", a->expr);
	return emit(out, outn, name, text, type, why, n);
}
