// SPDX-License-Identifier: MIT
/*
 * The kprobe_events language: valid definitions with their parsed fields and
 * compiled programs, the kernel selftest's error cases (and their uprobe
 * forms) with the caret where the kernel puts it, the error report, and the
 * validator against corrupted programs. Interpreter and formatter tests are
 * in test_events_fetch.c.
 *
 * Error rows use the selftest's notation (kprobe_syntax_errors.tc): a '^' in
 * the line marks the expected caret column and is removed before parsing.
 * The uprobe rows were checked against tracefs uprobe_events and error_log
 * on Linux 6.18 (same message, same column).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>

#include "events/events.h"
#include "pk_test.h"

static struct pk_event_def def, def2;

static const char *const regname[PK_EV_NREGS] = {
    "r15", "r14", "r13", "r12", "bp",	   "bx", "r11", "r10",	 "r9", "r8", "ax",
    "cx",  "dx",  "si",	 "di",	"orig_ax", "ip", "cs",	"flags", "sp", "ss",
};

static void add(char *buf, size_t size, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
}

/* One line per definition: what the parser made of it, ops included. */
static const char *describe(const struct pk_event_def *d)
{
	static const char *const forms[] = {"DELETE", "SYMBOL", "ADDR", "FILE", "FILE_SYMBOL"};
	static char buf[8192];
	const struct pk_fetch_op *c;
	unsigned int i, k;

	snprintf(buf, sizeof(buf), "%c:%s/%s %s", d->kind, d->group, d->event,
		 d->form < 5 ? forms[d->form] : "?");
	if (d->object)
		add(buf, sizeof(buf), " obj=%s", pk_event_str(d, d->object));
	if (d->symbol)
		add(buf, sizeof(buf), " sym=%s", pk_event_str(d, d->symbol));
	if (d->form != PK_EV_FORM_DELETE && d->form != PK_EV_FORM_ADDR)
		add(buf, sizeof(buf), " off=%#llx", (unsigned long long)d->offset);
	if (d->form == PK_EV_FORM_ADDR)
		add(buf, sizeof(buf), " addr=%#llx", (unsigned long long)d->addr);
	if (d->maxactive)
		add(buf, sizeof(buf), " max=%u", d->maxactive);
	if (d->ref_ctr_offset)
		add(buf, sizeof(buf), " ref=%#llx", (unsigned long long)d->ref_ctr_offset);
	add(buf, sizeof(buf), "%s%s%s%s%s", d->flags & PK_EVF_RETURN ? " RET" : "",
	    d->flags & PK_EVF_FENTRY ? " FENTRY" : "", d->flags & PK_EVF_USER ? " USER" : "",
	    d->flags & PK_EVF_FILE ? " FILE" : "", d->flags & PK_EVF_GENERATED ? " GEN" : "");
	if (d->kind == '-') {
		for (i = 0; i < d->nargs; i++)
			add(buf, sizeof(buf), " [%s]", pk_event_str(d, d->args[i].comm));
		return buf;
	}
	add(buf, sizeof(buf), " | %u/%u", d->fixed_size, d->dyn_offset);
	for (i = 0; i < d->nentry; i++)
		add(buf, sizeof(buf), " e%u=arg%u", i, d->entry_arg[i] + 1);
	for (i = 0; i < d->nargs; i++) {
		const struct pk_event_arg *a = &d->args[i];

		add(buf, sizeof(buf), " | %s:%s", a->name, pk_event_type_name(a->type));
		if (a->count)
			add(buf, sizeof(buf), "[%u]", a->count);
		add(buf, sizeof(buf), "@%u/%u", a->offset, a->size);
		for (k = 0; k < a->ncode; k++) {
			c = &a->code[k];
			switch (c->op) {
			case PK_FOP_REG:
				add(buf, sizeof(buf), " REG%s(%s)", c->size == 4 ? "32" : "",
				    c->param < PK_EV_NREGS ? regname[c->param] : "?");
				break;
			case PK_FOP_STACK:
				add(buf, sizeof(buf), " STACK(%llu)", (unsigned long long)c->imm);
				break;
			case PK_FOP_STACKP: add(buf, sizeof(buf), " STACKP"); break;
			case PK_FOP_RETVAL: add(buf, sizeof(buf), " RETVAL"); break;
			case PK_FOP_IMM:
				add(buf, sizeof(buf), " IMM(%#llx)", (unsigned long long)c->imm);
				break;
			case PK_FOP_COMM: add(buf, sizeof(buf), " COMM"); break;
			case PK_FOP_ARG: add(buf, sizeof(buf), " ARG(%u)", c->param); break;
			case PK_FOP_EDATA:
				add(buf, sizeof(buf), " EDATA(%lld)", (long long)c->offset);
				break;
			case PK_FOP_FOFFS:
				add(buf, sizeof(buf), " FOFFS(%#llx)", (unsigned long long)c->imm);
				break;
			case PK_FOP_SYMBOL:
				add(buf, sizeof(buf), " SYMBOL(%s)", pk_event_str(d, c->param));
				break;
			case PK_FOP_DATA:
				add(buf, sizeof(buf), " DATA(\"%s\")", pk_event_str(d, c->param));
				break;
			case PK_FOP_DEREF:
				add(buf, sizeof(buf), " DEREF(%lld)", (long long)c->offset);
				break;
			case PK_FOP_UDEREF:
				add(buf, sizeof(buf), " UDEREF(%lld)", (long long)c->offset);
				break;
			case PK_FOP_ST_RAW: add(buf, sizeof(buf), " ST_RAW(%u)", c->size); break;
			case PK_FOP_ST_MEM:
				add(buf, sizeof(buf), " ST_MEM(%lld,%u)", (long long)c->offset,
				    c->size);
				break;
			case PK_FOP_ST_UMEM:
				add(buf, sizeof(buf), " ST_UMEM(%lld,%u)", (long long)c->offset,
				    c->size);
				break;
			case PK_FOP_ST_STRING:
				add(buf, sizeof(buf), " ST_STRING(%lld)", (long long)c->offset);
				break;
			case PK_FOP_ST_USTRING:
				add(buf, sizeof(buf), " ST_USTRING(%lld)", (long long)c->offset);
				break;
			case PK_FOP_ST_SYMSTR: add(buf, sizeof(buf), " ST_SYMSTR"); break;
			case PK_FOP_MOD_BF:
				add(buf, sizeof(buf), " MOD_BF(%u,%u,%u)", c->size, c->lshift,
				    c->rshift);
				break;
			case PK_FOP_LP_ARRAY:
				add(buf, sizeof(buf), " LP_ARRAY(%u)", c->param);
				break;
			case PK_FOP_END: add(buf, sizeof(buf), " END"); break;
			default: add(buf, sizeof(buf), " op%u", c->op); break;
			}
		}
	}
	return buf;
}

/* Definitions the parser accepts, and everything it makes of them. */
/* clang-format off */
static const struct {
	const char *line;
	const char *want;
} valid[] = {
	/* kprobe forms */
	{"p vfs_read", "p:probekit/p_vfs_read_0 SYMBOL sym=vfs_read off=0 FENTRY GEN | 0/0"},
	{"p:myprobe do_sys_open dfd=%ax filename=%dx flags=%cx mode=+4($stack)",
	 "p:probekit/myprobe SYMBOL sym=do_sys_open off=0 FENTRY | 32/33"
	 " | dfd:x64@0/8 REG(ax) ST_RAW(8) END | filename:x64@8/8 REG(dx) ST_RAW(8) END"
	 " | flags:x64@16/8 REG(cx) ST_RAW(8) END | mode:x64@24/8 STACKP ST_MEM(4,8) END"},
	{"r:myretprobe do_sys_open $retval",
	 "r:probekit/myretprobe SYMBOL sym=do_sys_open off=0 RET | 8/9 | arg1:x64@0/8 RETVAL ST_RAW(8) END"},
	{"p:grp/ev func+0x10 x=+8(+0(%di)):s32 y=%si:u8",
	 "p:grp/ev SYMBOL sym=func off=0x10 | 5/6 | x:s32@0/4 REG(di) DEREF(0) ST_MEM(8,4) END"
	 " | y:u8@4/1 REG(si) ST_RAW(1) END"},
	{"r4:grp.ev libz:deflate $retval:s32 $arg1 $arg8",
	 "r:grp/ev SYMBOL obj=libz sym=deflate off=0 max=4 RET | 20/21 e0=arg1 e1=arg8"
	 " | arg1:s32@0/4 RETVAL ST_RAW(4) END | arg2:x64@4/8 EDATA(0) ST_RAW(8) END"
	 " | arg3:x64@12/8 EDATA(8) ST_RAW(8) END"},
	{"p func $arg1 $arg6 $arg7 $arg2048",
	 "p:probekit/p_func_0 SYMBOL sym=func off=0 FENTRY GEN | 32/33 | arg1:x64@0/8 ARG(0) ST_RAW(8) END"
	 " | arg2:x64@8/8 ARG(5) ST_RAW(8) END | arg3:x64@16/8 ARG(6) ST_RAW(8) END"
	 " | arg4:x64@24/8 ARG(2047) ST_RAW(8) END"},
	{"p func%return $arg1",
	 "r:probekit/r_func_0 SYMBOL sym=func off=0 RET GEN | 8/9 e0=arg1 | arg1:x64@0/8 EDATA(0) ST_RAW(8) END"},
	{"r func+0 $arg2 $arg2",
	 "r:probekit/r_func_0 SYMBOL sym=func off=0 RET GEN | 16/17 e0=arg2"
	 " | arg1:x64@0/8 EDATA(0) ST_RAW(8) END | arg2:x64@8/8 EDATA(0) ST_RAW(8) END"},
	{"p 0x401000 %ax", "p:probekit/p_0x401000 ADDR addr=0x401000 GEN | 8/9 | arg1:x64@0/8 REG(ax) ST_RAW(8) END"},
	{"r 4198400", "r:probekit/r_0x401000 ADDR addr=0x401000 RET GEN | 0/0"},
	{"p libstdc++.so.6:_Znwm+4",
	 "p:probekit/p_libstdc___so_6__Znwm_4 SYMBOL obj=libstdc++.so.6 sym=_Znwm off=0x4 GEN | 0/0"},
	{"p ld-linux-x86-64.so.2:_dl_start",
	 "p:probekit/p_ld_linux_x86_64_so_2__dl_start_0 SYMBOL obj=ld-linux-x86-64.so.2 sym=_dl_start off=0 FENTRY GEN | 0/0"},
	{"p memcpy@@GLIBC_2.14", "p:probekit/p_memcpy__GLIBC_2_14_0 SYMBOL sym=memcpy@@GLIBC_2.14 off=0 FENTRY GEN | 0/0"},
	/* the 6.18 kernel makes up a name for "GROUP/" (the old selftest said NO_EVENT_NAME) */
	{"p:foo/ vfs_read", "p:foo/p_vfs_read_0 SYMBOL sym=vfs_read off=0 FENTRY GEN | 0/0"},
	{"p:g2345678901234567890123456789012345678901234567890123456789012/e f",
	 "p:g2345678901234567890123456789012345678901234567890123456789012/e SYMBOL sym=f off=0 FENTRY | 0/0"},
	{"p:g-h/_E9 f", "p:g-h/_E9 SYMBOL sym=f off=0 FENTRY | 0/0"},
	{"p f_with_a_very_long_name_that_does_not_fit_in_sixty_four_bytes_at_all",
	 "p:probekit/p_f_with_a_very_long_name_that_does_not_fit_in_sixty_four_bytes SYMBOL"
	 " sym=f_with_a_very_long_name_that_does_not_fit_in_sixty_four_bytes_at_all off=0 FENTRY GEN | 0/0"},
	/* fetch arguments */
	{"p f a=@0x601040:u32 b=@jiffies c=@jiffies+8:s16 d=@jiffies-8",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 22/23 | a:u32@0/4 IMM(0x601040) ST_MEM(0,4) END"
	 " | b:x64@4/8 SYMBOL(jiffies) IMM(0) ST_MEM(0,8) END | c:s16@12/2 SYMBOL(jiffies+8) IMM(0) ST_MEM(0,2) END"
	 " | d:x64@14/8 SYMBOL(jiffies-8) IMM(0) ST_MEM(0,8) END"},
	{"p f s=+0(%si):string u=+u8(%di):ustring v=-u8(%di):string w=$comm c=$COMM:string k=\\\"hi\"",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 24/25 | s:string@0/4 REG(si) ST_STRING(0) END"
	 " | u:ustring@4/4 REG(di) ST_USTRING(8) END | v:string@8/4 REG(di) ST_USTRING(-8) END"
	 " | w:string@12/4 COMM ST_STRING(0) END | c:string@16/4 COMM ST_STRING(0) END"
	 " | k:string@20/4 DATA(\"hi\") ST_STRING(0) END"},
	{"p f i=\\1234 j=\\-1:s8 k=\\+0x10:x16 l=\\0777:u16 m=\\1234:string",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 17/18 | i:x64@0/8 IMM(0x4d2) ST_RAW(8) END"
	 " | j:s8@8/1 IMM(0xffffffffffffffff) ST_RAW(1) END | k:x16@9/2 IMM(0x10) ST_RAW(2) END"
	 " | l:u16@11/2 IMM(0x1ff) ST_RAW(2) END | m:string@13/4 IMM(0x4d2) ST_STRING(0) END"},
	{"p f a=+0(%ax):u8[3] b=+0(%ax):char[5] c=+8(%si):string[2] d=+0(%ax):b4@2/32[2]",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 24/25 | a:u8[3]@0/3 REG(ax) ST_MEM(0,1) LP_ARRAY(3) END"
	 " | b:char[5]@3/5 REG(ax) ST_MEM(0,1) LP_ARRAY(5) END"
	 " | c:string[2]@8/8 REG(si) DEREF(8) ST_STRING(0) LP_ARRAY(2) END"
	 " | d:u32[2]@16/8 REG(ax) ST_MEM(0,4) MOD_BF(4,26,28) LP_ARRAY(2) END"},
	{"p f a=%ax:b3@1/8 b=+0(%bx):b1@63/64 c=+0(%bx):b64@0/64 d=%ax:b0x2@0x4/0x10",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 19/20 | a:u8@0/1 REG(ax) ST_RAW(1) MOD_BF(1,4,5) END"
	 " | b:u64@1/8 REG(bx) ST_MEM(0,8) MOD_BF(8,0,63) END | c:u64@9/8 REG(bx) ST_MEM(0,8) MOD_BF(8,0,0) END"
	 " | d:u16@17/2 REG(ax) ST_RAW(2) MOD_BF(2,10,14) END"},
	{"p f a=%ax:symbol b=%ax:symstr c=+0(%ax):symstr d=$stack3:symstr e=%rdi f=%eax g=%r8d h=%rip",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 52/53 | a:symbol@0/8 REG(ax) ST_RAW(8) END"
	 " | b:symstr@8/4 REG(ax) ST_SYMSTR END | c:symstr@12/4 REG(ax) DEREF(0) ST_SYMSTR END"
	 " | d:symstr@16/4 STACK(3) ST_SYMSTR END | e:x64@20/8 REG(di) ST_RAW(8) END"
	 " | f:x64@28/8 REG32(ax) ST_RAW(8) END | g:x64@36/8 REG32(r8) ST_RAW(8) END"
	 " | h:x64@44/8 REG(ip) ST_RAW(8) END"},
	{"p f $stack $stack0 $stack2048 +0x10(-8(+0($stack))):u16 x=+0(%ax)junk",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 34/35 | arg1:x64@0/8 STACKP ST_RAW(8) END"
	 " | arg2:x64@8/8 STACK(0) ST_RAW(8) END | arg3:x64@16/8 STACK(2048) ST_RAW(8) END"
	 " | arg4:u16@24/2 STACKP DEREF(0) DEREF(-8) ST_MEM(16,2) END | x:x64@26/8 REG(ax) ST_MEM(0,8) END"},
	{"p f +0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(@0)))))))))))))",
	 "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 8/9 | arg1:x64@0/8 IMM(0) DEREF(0) DEREF(0) DEREF(0)"
	 " DEREF(0) DEREF(0) DEREF(0) DEREF(0) DEREF(0) DEREF(0) DEREF(0) DEREF(0) DEREF(0) DEREF(0) ST_MEM(0,8) END"},
	{"p f x=%ax # a comment %zz", "p:probekit/p_f_0 SYMBOL sym=f off=0 FENTRY GEN | 8/9 | x:x64@0/8 REG(ax) ST_RAW(8) END"},
	{"  p:e \t f   x=%ax\t", "p:probekit/e SYMBOL sym=f off=0 FENTRY | 8/9 | x:x64@0/8 REG(ax) ST_RAW(8) END"},
	/* uprobe forms, all accepted by tracefs uprobe_events */
	{"p /bin/true:0x10", "p:probekit/p_true_0x10 FILE obj=/bin/true off=0x10 USER FILE GEN | 0/0"},
	{"r /bin/true:0x10", "r:probekit/p_true_0x10 FILE obj=/bin/true off=0x10 RET USER FILE GEN | 0/0"},
	{"p:pkev/ /usr/lib/libz.so.1.2:010%return(0x20)",
	 "r:pkev/p_libz_0x8 FILE obj=/usr/lib/libz.so.1.2 off=0x8 ref=0x20 RET USER FILE GEN | 0/0"},
	{"p:a.b /bin/true:0x10 x=@+0x10:u8[3] y=@+-0x10 z=+0(@+0x10):string w=$stack10000",
	 "p:a/b FILE obj=/bin/true off=0x10 USER FILE | 23/24 | x:u8[3]@0/3 FOFFS(0x10) ST_MEM(0,1) LP_ARRAY(3) END"
	 " | y:x64@3/8 FOFFS(0xfffffffffffffff0) ST_MEM(0,8) END | z:string@11/4 FOFFS(0x10) DEREF(0) ST_STRING(0) END"
	 " | w:x64@15/8 STACK(10000) ST_RAW(8) END"},
	{"p /bin/true:0x10 x=$stack4294967297 y=+2147483648(%ax):u8",
	 "p:probekit/p_true_0x10 FILE obj=/bin/true off=0x10 USER FILE GEN | 9/10 | x:x64@0/8 STACK(1) ST_RAW(8) END"
	 " | y:u8@8/1 REG(ax) ST_MEM(2147483648,1) END"},
	{"r /bin/true:0x10 x=$retvalx y=\\\"a\"b\" z=\\\"\"",
	 "r:probekit/p_true_0x10 FILE obj=/bin/true off=0x10 RET USER FILE GEN | 16/17 | x:x64@0/8 RETVAL ST_RAW(8) END"
	 " | y:string@8/4 DATA(\"a\"b\") ST_STRING(0) END | z:string@12/4 DATA(\"\") ST_STRING(0) END"},
	/* probekit's PATH:SYM */
	{"r /tmp/x:main $arg1 $retval @+0x10 @foo",
	 "r:probekit/r_main_0 FILE_SYMBOL obj=/tmp/x sym=main off=0 RET FILE GEN | 32/33 e0=arg1"
	 " | arg1:x64@0/8 EDATA(0) ST_RAW(8) END | arg2:x64@8/8 RETVAL ST_RAW(8) END"
	 " | arg3:x64@16/8 FOFFS(0x10) ST_MEM(0,8) END | arg4:x64@24/8 SYMBOL(foo) IMM(0) ST_MEM(0,8) END"},
	{"p ./a.out:foo+4", "p:probekit/p_foo_4 FILE_SYMBOL obj=./a.out sym=foo off=0x4 FILE GEN | 0/0"},
	/* deletions */
	{"-:foo/bar", "-:foo/bar DELETE"},
	{"-:bar", "-:/bar DELETE"},
	{"-:foo/", "-:foo/ DELETE"},
	{"-:foo/bar a=%ax", "-:foo/bar DELETE [a=%ax]"},
};
/* clang-format on */

static void test_valid(void)
{
	struct pk_event_error err;
	size_t i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int ret = pk_event_parse(&def, valid[i].line, &err);

		if (ret) {
			printf("  %s: %d %s at %d\n", valid[i].line, ret,
			       pk_event_errname(err.cause), err.pos);
			pk_t_failed_case = 1;
			continue;
		}
		CHECK_EQ(err.cause, PK_EVERR_NONE);
		CHECK_STR(describe(&def), valid[i].want);
		CHECK_EQ(pk_event_validate(&def, sizeof(def)), 0);
	}
}

/* 128 arguments are fine, 129 are not. */
static void test_arg_count(void)
{
	static char line[PK_EV_MAX_LINE + 16];
	struct pk_event_error err;
	int i;

	strcpy(line, "p f");
	for (i = 0; i < PK_EV_MAX_ARGS; i++)
		strcat(line, " %ax");
	CHECK_EQ(pk_event_parse(&def, line, &err), 0);
	CHECK_EQ(def.nargs, 128);
	CHECK_STR(def.args[127].name, "arg128");
	CHECK_EQ(def.fixed_size, 1024);
	CHECK_EQ(def.dyn_offset, 1024 + 16);
	CHECK_EQ(pk_event_validate(&def, sizeof(def)), 0);
	strcat(line, " %ax");
	CHECK_EQ(pk_event_parse(&def, line, &err), -E2BIG);
	CHECK_EQ(err.cause, PK_EVERR_TOO_MANY_ARGS);
	CHECK_EQ(err.pos, 4);
	/* A line as long as the kernel's write buffer, or longer. */
	memset(line, 'x', sizeof(line) - 1);
	line[0] = 'p';
	line[1] = ' ';
	line[sizeof(line) - 1] = '\0';
	CHECK_EQ(pk_event_parse(&def, line, &err), -E2BIG);
	CHECK_EQ(err.cause, PK_EVERR_LINE_TOO_LONG);
	CHECK_EQ(pk_event_parse(&def, "   # only a comment", &err), -ENODATA);
	CHECK_EQ(pk_event_parse(&def, "", NULL), -ENODATA);
}

/* clang-format off */
#define E(cause, line) {PK_EVERR_##cause, line}

/* Errors: the selftest's rows first (kprobe forms), then their uprobe forms. */
static const struct {
	enum pk_ev_err cause;
	const char *line;
} errors[] = {
	/* tools/testing/selftests/ftrace/test.d/kprobe/kprobe_syntax_errors.tc */
	E(BAD_MAXACT_TYPE, "p^100 vfs_read"), /* MAXACT_NO_KPROBE before 6.5 */
	E(BAD_MAXACT, "r^1a111 vfs_read"),
	E(MAXACT_TOO_BIG, "r^100000 vfs_read"),
	E(BAD_PROBE_ADDR, "p ^hoge-fuga"),
	E(BAD_PROBE_ADDR, "p ^hoge+1000-1000"),
	E(BAD_RETPROBE, "r ^vfs_read+10"),
	E(NO_GROUP_NAME, "p:^/bar vfs_read"),
	E(GROUP_TOO_LONG, "p:^12345678901234567890123456789012345678901234567890123456789012345/bar vfs_read"),
	E(BAD_GROUP_NAME, "p:^foo.1/bar vfs_read"),
	E(EVENT_TOO_LONG, "p:foo/^12345678901234567890123456789012345678901234567890123456789012345 vfs_read"),
	E(BAD_EVENT_NAME, "p:foo/^bar.1 vfs_read"),
	E(RETVAL_ON_PROBE, "p vfs_read ^$retval"),
	E(BAD_STACK_NUM, "p vfs_read ^$stack10000"),
	E(BAD_ARG_NUM, "p vfs_read ^$arg10000"),
	E(BAD_VAR, "p vfs_read ^$none_var"),
	E(BAD_REG_NAME, "p vfs_read ^%none_reg"),
	E(BAD_MEM_ADDR, "p vfs_read ^@12345678abcde"),
	E(FILE_ON_KPROBE, "p vfs_read ^@+10"),
	E(DEREF_NEED_BRACE, "p vfs_read ^+0@0)"),
	E(BAD_DEREF_OFFS, "p vfs_read ^+0ab1(@0)"),
	E(DEREF_OPEN_BRACE, "p vfs_read +0(+0(@0^)"),
	E(COMM_CANT_DEREF, "p vfs_read +0(^$comm)"),
	E(BAD_FETCH_ARG, "p vfs_read ^&1"),
	E(TOO_MANY_OPS, "p vfs_read +0(^+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(@0))))))))))))))"),
	E(ARRAY_NO_CLOSE, "p vfs_read +0(@11):u8[10^"),
	E(BAD_ARRAY_SUFFIX, "p vfs_read +0(@11):u8[10]^a"),
	E(BAD_ARRAY_NUM, "p vfs_read +0(@11):u8[^10a]"),
	E(ARRAY_TOO_BIG, "p vfs_read +0(@11):u8[^256]"),
	E(BAD_TYPE, "p vfs_read @11:^unknown_type"),
	E(BAD_STRING, "p vfs_read $stack0:^string"),
	E(BAD_BITFIELD, "p vfs_read @11:^b10@a/16"),
	E(ARG_NAME_TOO_LONG, "p vfs_read ^arg123456789012345678901234567890=@11"),
	E(NO_ARG_NAME, "p vfs_read ^=@11"),
	E(BAD_ARG_NAME, "p vfs_read ^var.1=@11"),
	E(USED_ARG_NAME, "p vfs_read var1=@11 ^var1=@12"),
	E(ARG_TOO_LONG, "p vfs_read ^+1234567(+1234567(+1234567(+1234567(+1234567(+1234567(@1234))))))"),
	E(NO_ARG_BODY, "p vfs_read arg1=^"),
	/* more kprobe forms, from trace_kprobe.c and trace_probe.c */
	E(BAD_MAXACT, "r^0 vfs_read"),
	E(MAXACT_TOO_BIG, "r^4097:grp/ev vfs_read"),
	E(BAD_ADDR_SUFFIX, "p vfs_read^%ret"),
	E(BAD_ADDR_SUFFIX, "p vfs_read^%return+4"),
	E(BAD_RETPROBE, "p ^vfs_read+4%return"),
	E(BAD_PROBE_ADDR, "p ^-1"),
	E(BAD_PROBE_ADDR, "p ^libz:"),
	E(BAD_PROBE_ADDR, "p ^:deflate"),
	E(NO_EVENT_NAME, "p:^ vfs_read"),
	E(NOFENTRY_ARGS, "p vfs_read+4 ^$arg1"),
	E(NOFENTRY_ARGS, "p vfs_read+4 x=^$arg1"),
	E(NOFENTRY_ARGS, "p 0x1234 ^$arg1"),
	E(BAD_VAR, "p vfs_read ^$argx"),
	E(BAD_VAR, "p vfs_read %zz ^$argx"), /* unnamed $arg words are checked first */
	E(BAD_VAR, "p vfs_read ^$arg"),
	E(DOUBLE_ARGS, "p vfs_read $arg* ^$arg*"),
	E(NOSUP_BTFARG, "p vfs_read ^$arg*"),
	E(NOSUP_BTFARG, "p vfs_read ^foo"),
	E(NOSUP_BTFARG, "p vfs_read x=^(foo)"),
	E(BAD_SYMSTRING, "r vfs_read $arg1:^symstr"),
	E(BAD_SYMSTRING, "p vfs_read x=\\1:^symstr"),
	E(BAD_RETPROBE, "r /tmp/x:^main+4"),
	E(BAD_PROBE_ADDR, "p /tmp/x:^"),
	E(NOFENTRY_ARGS, "p /tmp/x:main+4 ^$arg1"),
	/* probekit's own */
	E(BAD_CMD, "^x vfs_read"),
	E(NO_PROBE_POINT, "p ^"),
	E(NO_PROBE_POINT, "p:foo ^"),
	E(BAD_DELETE, "-^foo"),
	E(NO_EVENT_NAME, "-:^"),
	E(GROUP_TOO_LONG, "-:^12345678901234567890123456789012345678901234567890123456789012345/x"),
	/* uprobe forms: each checked against tracefs on 6.18 */
	E(BAD_REFCNT, "p:pkev/a /bin/true:0x10(^0xzz)"),
	E(REFCNT_OPEN_BRACE, "p:pkev/a /bin/true:0x10(0x20^"),
	E(BAD_REFCNT_SUFFIX, "p:pkev/a /bin/true:0x10(0x20)^x"),
	E(BAD_REFCNT_SUFFIX, "p:pkev/a /bin/true:0x10(0x20)^%return"),
	E(BAD_UPROBE_OFFS, "p:pkev/a /bin/true:^0x1z"),
	E(BAD_UPROBE_OFFS, "p:pkev/a /bin/true:^08"),
	E(BAD_ADDR_SUFFIX, "p:pkev/a /bin/true:0x10^%ret"),
	E(NO_GROUP_NAME, "p:^/bar /bin/true:0x10"),
	E(NO_GROUP_NAME, "p:^.ev /bin/true:0x10"),
	E(GROUP_TOO_LONG, "p:^1234567890123456789012345678901234567890123456789012345678901234/bar /bin/true:0x10"),
	E(BAD_GROUP_NAME, "p:^123456789012345678901234567890123456789012345678901234567890123/bar /bin/true:0x10"),
	E(BAD_GROUP_NAME, "p:^foo.1/bar /bin/true:0x10"),
	E(BAD_GROUP_NAME, "p:^9g/ev /bin/true:0x10"),
	E(EVENT_TOO_LONG, "p:foo/^1234567890123456789012345678901234567890123456789012345678901234 /bin/true:0x10"),
	E(BAD_EVENT_NAME, "p:foo/^bar.1 /bin/true:0x10"),
	E(BAD_EVENT_NAME, "p:g/^r/ev /bin/true:0x10"),
	E(BAD_EVENT_NAME, "p:g/^9ev /bin/true:0x10"),
	E(NO_EVENT_NAME, "p:^ /bin/true:0x10"),
	E(RETVAL_ON_PROBE, "p:pkev/a /bin/true:0x10 ^$retval"),
	E(RETVAL_ON_PROBE, "p:pkev/a /bin/true:0x10 x=^$retvalx"),
	E(BAD_ARG_NUM, "p:pkev/a /bin/true:0x10 ^$arg10000"),
	E(BAD_ARG_NUM, "p:pkev/a /bin/true:0x10 x=^$arg0"),
	E(NOFENTRY_ARGS, "p:pkev/a /bin/true:0x10 ^$arg1"),
	E(NOFENTRY_ARGS, "r:pkev/a /bin/true:0x10 x=^$arg2048"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 ^$none_var"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 ^$arg*"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 x=^$stack5x"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 x=^$stack+1"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 x=^$Comm"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 x=^$"),
	E(BAD_VAR, "p:pkev/a /bin/true:0x10 x=^$stack18446744073709551616"),
	E(BAD_REG_NAME, "p:pkev/a /bin/true:0x10 ^%none_reg"),
	E(BAD_REG_NAME, "p:pkev/a /bin/true:0x10 x=^%"),
	E(BAD_REG_NAME, "p:pkev/a /bin/true:0x10 x=^%RAX"),
	E(BAD_MEM_ADDR, "p:pkev/a /bin/true:0x10 ^@12345678abcde"),
	E(BAD_MEM_ADDR, "p:pkev/a /bin/true:0x10 x=^@0x"),
	E(BAD_IMM, "p:pkev/a /bin/true:0x10 x=\\^x"),
	E(BAD_IMM, "p:pkev/a /bin/true:0x10 x=\\^"),
	E(BAD_IMM, "p:pkev/a /bin/true:0x10 x=\\^08"),
	E(BAD_IMM, "p:pkev/a /bin/true:0x10 x=\\^18446744073709551616"),
	E(BAD_IMM, "p:pkev/a /bin/true:0x10 x=\\^-9223372036854775809"),
	E(IMMSTR_NO_CLOSE, "p:pkev/a /bin/true:0x10 \\\"abc^"),
	E(IMMSTR_NO_CLOSE, "p:pkev/a /bin/true:0x10 x=\\\"^"),
	E(SYM_ON_UPROBE, "p:pkev/a /bin/true:0x10 x=^@foo"),
	E(SYM_ON_UPROBE, "p:pkev/a /bin/true:0x10 x=^@"),
	E(BAD_FILE_OFFS, "p:pkev/a /bin/true:0x10 x=^@+1z"),
	E(BAD_FILE_OFFS, "p:pkev/a /bin/true:0x10 x=^@+"),
	E(DEREF_NEED_BRACE, "p:pkev/a /bin/true:0x10 ^+0@0)"),
	E(BAD_DEREF_OFFS, "p:pkev/a /bin/true:0x10 ^+0ab1(@0)"),
	E(BAD_DEREF_OFFS, "p:pkev/a /bin/true:0x10 x=^+(%ax)"),
	E(BAD_DEREF_OFFS, "p:pkev/a /bin/true:0x10 x=^--4(%ax)"),
	E(BAD_DEREF_OFFS, "p:pkev/a /bin/true:0x10 x=^+9223372036854775808(%ax)"),
	E(DEREF_OPEN_BRACE, "p:pkev/a /bin/true:0x10 +0(+0(@0^)"),
	E(COMM_CANT_DEREF, "p:pkev/a /bin/true:0x10 +0(^$comm)"),
	E(COMM_CANT_DEREF, "p:pkev/a /bin/true:0x10 +0(^\\\"ab\"):u32"),
	E(BAD_FETCH_ARG, "p:pkev/a /bin/true:0x10 ^&1"),
	E(BAD_FETCH_ARG, "p:pkev/a /bin/true:0x10 x=^=%ax"),
	E(BAD_FETCH_ARG, "p:pkev/a /bin/true:0x10 x=+8(^)"),
	E(TOO_MANY_OPS, "p:pkev/a /bin/true:0x10 +0(^+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(@0))))))))))))))"),
	E(TOO_MANY_OPS, "p:pkev/a /bin/true:0x10 x=+0(^+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(+0(@0)))))))))))):string[2]"),
	E(ARRAY_NO_CLOSE, "p:pkev/a /bin/true:0x10 +0(@11):u8[10^"),
	E(BAD_ARRAY_SUFFIX, "p:pkev/a /bin/true:0x10 +0(@11):u8[10]^a"),
	E(BAD_ARRAY_SUFFIX, "p:pkev/a /bin/true:0x10 x=+0(%ax):u8[2]^[3]"),
	E(BAD_ARRAY_NUM, "p:pkev/a /bin/true:0x10 +0(@11):u8[^10a]"),
	E(BAD_ARRAY_NUM, "p:pkev/a /bin/true:0x10 x=+0(%ax):u8[^0]"),
	E(BAD_ARRAY_NUM, "p:pkev/a /bin/true:0x10 x=+0(%ax):u8[^]"),
	E(BAD_ARRAY_NUM, "p:pkev/a /bin/true:0x10 x=+0(%ax):u8[^-1]"),
	E(ARRAY_TOO_BIG, "p:pkev/a /bin/true:0x10 +0(@11):u8[^256]"),
	E(ARRAY_TOO_BIG, "p:pkev/a /bin/true:0x10 x=+0(%ax):string[^65]"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 @11:^unknown_type"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=%ax:^symbol"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=+0(%ax):^symstr"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=+0(%ax):^b4@2/31"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=+0(%ax):^b4@2"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=+0(%ax):^"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=+0(%ax):^u8:u16"),
	E(BAD_TYPE, "p:pkev/a /bin/true:0x10 x=%ax:^X64"),
	E(BAD_STRING, "p:pkev/a /bin/true:0x10 $stack0:^string"),
	E(BAD_STRING, "p:pkev/a /bin/true:0x10 x=%ax:^ustring"),
	E(BAD_STRING, "p:pkev/a /bin/true:0x10 x=%ax:^x8[2]"),
	E(BAD_STRING, "p:pkev/a /bin/true:0x10 x=$stack:^string"),
	E(BAD_STRING, "p:pkev/a /bin/true:0x10 x=+u0(%ax):u8[^2]"), /* the kernel does not count the 'u' */
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 @11:^b10@a/16"),
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 x=@11:^b4@30/32"),
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 x=+0(%ax):b4@^30/32"), /* counted from inside the brace */
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 x=+0(+0(%ax)):b4@^30/32"),
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 x=+511111111(%bx):b1x0/64    ^"), /* past the end, as the kernel */
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 x=%ax:^b0@2/32"),
	E(BAD_BITFIELD, "p:pkev/a /bin/true:0x10 x=%ax:^b65@0/64"),
	E(ARG_NAME_TOO_LONG, "p:pkev/a /bin/true:0x10 ^arg123456789012345678901234567890=@11"),
	E(NO_ARG_NAME, "p:pkev/a /bin/true:0x10 ^=@11"),
	E(BAD_ARG_NAME, "p:pkev/a /bin/true:0x10 ^var.1=@11"),
	E(BAD_ARG_NAME, "p:pkev/a /bin/true:0x10 ^9x=%ax"),
	E(BAD_ARG_NAME, "p:pkev/a /bin/true:0x10 ^x:u8=%ax"),
	E(USED_ARG_NAME, "p:pkev/a /bin/true:0x10 var1=@11 ^var1=@12"),
	E(USED_ARG_NAME, "p:pkev/a /bin/true:0x10 ^common_pid=%ax"),
	E(USED_ARG_NAME, "p:pkev/a /bin/true:0x10 ^__probe_ip=%ax"),
	E(USED_ARG_NAME, "p:pkev/a /bin/true:0x10 arg2=%ax ^%bx"),
	E(ARG_TOO_LONG, "p:pkev/a /bin/true:0x10 ^+1234567(+1234567(+1234567(+1234567(+1234567(+1234567(@1234))))))"),
	E(ARG_TOO_LONG, "p:pkev/a /bin/true:0x10 x=^abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"),
	E(NO_ARG_BODY, "p:pkev/a /bin/true:0x10 arg1=^"),
	E(NOSUP_BTFARG, "p:pkev/a /bin/true:0x10 ^foo"),
	E(NOSUP_BTFARG, "p:pkev/a /bin/true:0x10 x=+0(^(%ax)"),
	E(NOSUP_BTFARG, "p:pkev/a /bin/true:0x10 foo=%ax ^foo"),
	E(NEED_STRING_TYPE, "p:pkev/a /bin/true:0x10 x=$comm:^u8"),
	E(NEED_STRING_TYPE, "p:pkev/a /bin/true:0x10 x=$comm:^string[1]"),
	E(NEED_STRING_TYPE, "p:pkev/a /bin/true:0x10 \\\"abc\":^u32"),
	E(EVENT_TOO_BIG, "p:pkev/a /bin/true:0x10 x=+0(%ax):u64[64] y=+0(%ax):u64[64] z=+0(%ax):u64[64]"
			 " w=+0(%ax):u64[64] v=+0(%ax):u64[64] u=+0(%ax):u64[64] t=+0(^%ax):u64[1]"),
	E(EVENT_TOO_BIG, "p:pkev/a /bin/true:0x10 x=+0(%ax):u64[64] y=+0(%ax):u64[64] z=+0(%ax):u64[64]"
			 " w=+0(%ax):u64[64] v=+0(%ax):u64[64] u=+0(%ax):u64[63] t=%ax:u32 s=%ax:u32"
			 " r=^%ax:u32"),
};
/* clang-format on */

static void test_errors(void)
{
	static char line[PK_EV_MAX_LINE];
	struct pk_event_error err;
	const char *caret;
	size_t i, col;
	int ret;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		caret = strchr(errors[i].line, '^');
		col = (size_t)(caret - errors[i].line);
		memcpy(line, errors[i].line, col);
		strcpy(line + col, caret + 1);
		ret = pk_event_parse(&def, line, &err);
		if (ret >= 0 || err.cause != errors[i].cause || err.pos != (int)col) {
			printf("  %s: %d %s at %d, want %s at %zu\n", line, ret,
			       pk_event_errname(err.cause), err.pos,
			       pk_event_errname(errors[i].cause), col);
			pk_t_failed_case = 1;
		}
		CHECK_EQ(def.magic, 0);
		CHECK_EQ(pk_event_validate(&def, sizeof(def)), -EINVAL);
	}
}

/* TOO_MANY_ARGS comes first for uprobes, after the event name for kprobes. */
static void test_error_order(void)
{
	static char line[PK_EV_MAX_LINE];
	struct pk_event_error err;
	int i;

	strcpy(line, "p:foo/bar.1 /bin/true:0x10");
	for (i = 0; i < 129; i++)
		strcat(line, " %ax");
	CHECK_EQ(pk_event_parse(&def, line, &err), -E2BIG);
	CHECK_EQ(err.cause, PK_EVERR_TOO_MANY_ARGS);
	CHECK_EQ(err.pos, 27);
	CHECK_STR(err.subsystem, "trace_uprobe");
	memcpy(line, "p:foo/bar.1 vfs_read  ", 22);
	CHECK_EQ(pk_event_parse(&def, line, &err), -EINVAL);
	CHECK_EQ(err.cause, PK_EVERR_BAD_EVENT_NAME);
	CHECK_EQ(err.pos, 6);
	CHECK_STR(err.subsystem, "trace_kprobe");
}

static void test_error_report(void)
{
	struct pk_event_error err;
	char buf[512];
	int n;

	/* Words are re-joined with single spaces, as the kernel's command. */
	CHECK_EQ(pk_event_parse(&def, "p:myprobe  vfs_read\t x=+0($comm)", &err), -EINVAL);
	n = pk_event_error_print(&err, buf, sizeof(buf));
	CHECK_STR(buf, "trace_kprobe: error: $comm can not be dereferenced\n"
		       "  Command: p:myprobe vfs_read x=+0($comm)\n"
		       "                                   ^\n");
	CHECK_EQ(n, (int)strlen(buf));
	/* Cut like snprintf(), the full length returned. */
	CHECK_EQ(pk_event_error_print(&err, buf, 10), n);
	CHECK_STR(buf, "trace_kpr");
	CHECK_EQ(pk_event_parse(&def, "p /bin/true:0x1z", &err), -EINVAL);
	pk_event_error_print(&err, buf, sizeof(buf));
	CHECK_STR(buf, "trace_uprobe: error: Invalid uprobe offset\n"
		       "  Command: p /bin/true:0x1z\n"
		       "                       ^\n");
	CHECK_STR(pk_event_strerror(PK_EVERR_BAD_VAR), "Invalid $-variable specified");
	CHECK_STR(pk_event_errname(PK_EVERR_TOO_MANY_OPS), "TOO_MANY_OPS");
	CHECK_STR(pk_event_strerror(PK_EVERR_NR), "");
}

/* Errors found when the probe is registered in the traced process. */
static void test_error_set(void)
{
	struct pk_event_error err;
	char buf[512];

	/* p ^non_exist_func: BAD_PROBE_ADDR (enoent) */
	CHECK_EQ(pk_event_register_cause(-ENOENT), PK_EVERR_BAD_PROBE_ADDR);
	CHECK_EQ(
	    pk_event_error_set(&err, "p non_exist_func", pk_event_register_cause(-ENOENT), 1, 0),
	    -EINVAL);
	CHECK_EQ(err.pos, 2);
	/* p ^vfs_read+3: BAD_INSN_BNDRY */
	CHECK_EQ(pk_event_register_cause(-EILSEQ), PK_EVERR_BAD_INSN_BNDRY);
	CHECK_EQ(pk_event_error_set(&err, "p vfs_read+3", PK_EVERR_BAD_INSN_BNDRY, 1, 0), -EILSEQ);
	pk_event_error_print(&err, buf, sizeof(buf));
	CHECK_STR(buf, "trace_kprobe: error: Probe point is not an instruction boundary\n"
		       "  Command: p vfs_read+3\n"
		       "             ^\n");
	CHECK_EQ(pk_event_register_cause(-EFAULT), PK_EVERR_FAIL_REG_PROBE);
	CHECK_EQ(pk_event_register_cause(-ENOMEM), PK_EVERR_NONE);
	CHECK_EQ(pk_event_register_cause(-EEXIST), PK_EVERR_NONE);
	CHECK_EQ(pk_event_error_set(&err, "p /no/such:0x10 x=%ax", PK_EVERR_FILE_NOT_FOUND, 1, 0),
		 -ENOENT);
	CHECK_STR(err.subsystem, "trace_uprobe");
	CHECK_EQ(err.pos, 2);
	CHECK_EQ(pk_event_error_set(&err, "p:a/b f", PK_EVERR_EVENT_EXIST, 0, 0), -EEXIST);
	CHECK_EQ(err.pos, 0);
	/* A word past the last: the caret after the command, as the kernel. */
	pk_event_error_set(&err, "p f", PK_EVERR_FAIL_REG_PROBE, 5, 3);
	CHECK_EQ(err.pos, 4);
}

static int lookup(void *ctx, const char *name, unsigned long *addr)
{
	(void)ctx;
	if (!strcmp(name, "jiffies")) {
		*addr = 0x1000;
		return 0;
	}
	return -ENOENT;
}

static void test_resolve(void)
{
	struct pk_event_resolver r = {lookup, NULL};

	CHECK_EQ(pk_event_parse(&def, "p f a=@jiffies b=@jiffies+0x10:u8 c=@jiffies-8", NULL), 0);
	CHECK_EQ(pk_event_resolve(&def, &r), 0);
	CHECK_EQ(def.args[0].code[1].imm, 0x1000);
	CHECK_EQ(def.args[0].code[0].size, 1);
	CHECK_EQ(def.args[1].code[1].imm, 0x1010);
	CHECK_EQ(def.args[2].code[1].imm, 0xff8);
	CHECK_EQ(pk_event_validate(&def, sizeof(def)), 0);
	CHECK_EQ(pk_event_parse(&def, "p f a=@nosuch", NULL), 0);
	CHECK_EQ(pk_event_resolve(&def, &r), -ENOENT);
	CHECK_EQ(def.args[0].code[0].size, 0);
	CHECK_EQ(pk_event_parse(&def, "p f a=@jiffies+zz", NULL), 0);
	CHECK_EQ(pk_event_resolve(&def, &r), -EINVAL);
}

/* Parse @line into def, copy it to def2, let @corrupt damage def2, expect -EINVAL. */
#define CORRUPT(line, stmt)                                                                        \
	do {                                                                                       \
		CHECK_EQ(pk_event_parse(&def, line, NULL), 0);                                     \
		memcpy(&def2, &def, sizeof(def));                                                  \
		CHECK_EQ(pk_event_validate(&def2, sizeof(def2)), 0);                               \
		{                                                                                  \
			struct pk_event_def *d = &def2;                                            \
			stmt;                                                                      \
		}                                                                                  \
		if (pk_event_validate(&def2, sizeof(def2)) != -EINVAL) {                           \
			printf("  %s:%d: accepted after: %s\n", __FILE__, __LINE__, #stmt);        \
			pk_t_failed_case = 1;                                                      \
		}                                                                                  \
	} while (0)

static void test_validate(void)
{
	const char *l1 = "p:g/e f a=+8(%di):u32 s=+0(%si):string b=+0(%ax):b4@2/32[2] c=\\\"x\"";
	const char *l2 = "r g $retval $arg2 x=@jiffies";

	CHECK_EQ(pk_event_validate(NULL, sizeof(def)), -EINVAL);
	CORRUPT(l1, d->magic ^= 1);
	CORRUPT(l1, d->abi_size--);
	CORRUPT(l1, d->kind = 'x');
	CORRUPT(l1, d->kind = 'r');
	CORRUPT(l1, d->form = PK_EV_FORM_FILE);
	CORRUPT(l1, d->form = 9);
	CORRUPT(l1, d->flags |= 0x80);
	CORRUPT(l1, d->flags |= PK_EVF_RETURN);
	CORRUPT(l1, d->maxactive = 5000);
	CORRUPT(l1, d->nargs = 129);
	CORRUPT(l1, d->nargs = 3);
	CORRUPT(l1, d->fixed_size++);
	CORRUPT(l1, d->dyn_offset--);
	CORRUPT(l1, d->pool_used = PK_EV_POOL_SIZE + 1);
	CORRUPT(l1, d->pool_used = 0);
	CORRUPT(l1, d->pool[d->pool_used - 1] = 'x');
	CORRUPT(l1, d->pool[0] = 'x');
	CORRUPT(l1, d->object = d->pool_used);
	CORRUPT(l1, memset(d->group, 'g', sizeof(d->group)));
	CORRUPT(l1, memset(d->event, 'e', sizeof(d->event)));
	CORRUPT(l1, d->event[0] = '9');
	CORRUPT(l1, d->group[0] = '\0');
	CORRUPT(l1, memset(d->args[0].name, 'n', sizeof(d->args[0].name)));
	CORRUPT(l1, strcpy(d->args[1].name, "a"));
	CORRUPT(l1, d->args[0].name[0] = '\0');
	CORRUPT(l1, d->args[0].comm = 0xffff);
	CORRUPT(l1, d->args[0].type = PK_EVT_NR);
	CORRUPT(l1, d->args[0].type = PK_EVT_U64);
	CORRUPT(l1, d->args[0].type = PK_EVT_STRING);
	CORRUPT(l1, d->args[1].dynamic = 0);
	CORRUPT(l1, d->args[0].offset = 1);
	CORRUPT(l1, d->args[0].size = 8);
	CORRUPT(l1, d->args[2].count = 65);
	CORRUPT(l1, d->args[2].count = 3);
	CORRUPT(l1, d->args[0].ncode = 0);
	CORRUPT(l1, d->args[0].ncode = 1);
	CORRUPT(l1, d->args[0].ncode = 17);
	CORRUPT(l1, d->args[0].ncode = 2);
	CORRUPT(l1, d->args[0].ncode++);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_NOP);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_END);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_NR);
	CORRUPT(l1, d->args[0].code[0].op = 200);
	CORRUPT(l1, d->args[0].code[0].param = PK_EV_NREGS);
	CORRUPT(l1, d->args[0].code[0].size = 3);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_RETVAL);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_ARG; d->args[0].code[0].param = 5000);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_EDATA);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_FOFFS);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_SYMBOL);
	CORRUPT(l1, d->args[0].code[0].op = PK_FOP_COMM);
	CORRUPT(l1, d->args[0].code[1].op = PK_FOP_ST_STRING);
	CORRUPT(l1, d->args[0].code[1].op = PK_FOP_LP_ARRAY);
	CORRUPT(l1, d->args[0].code[1].size = 8);
	CORRUPT(l1, d->args[0].code[1].size = 0);
	CORRUPT(l1, d->args[0].code[2].op = PK_FOP_DEREF);
	CORRUPT(l1, d->args[0].code[2].op = PK_FOP_NOP);
	CORRUPT(l1, d->args[1].code[1].op = PK_FOP_ST_MEM);
	CORRUPT(l1, d->args[1].code[1].op = PK_FOP_ST_SYMSTR);
	CORRUPT(l1, d->args[1].code[1].size = 8);
	CORRUPT(l1, d->args[2].code[2].lshift = 40);
	CORRUPT(l1, d->args[2].code[2].rshift = 32);
	CORRUPT(l1, d->args[2].code[2].rshift = 20);
	CORRUPT(l1, d->args[2].code[2].size = 8);
	CORRUPT(l1, d->args[2].code[3].param = 3);
	CORRUPT(l1, d->args[2].code[3].op = PK_FOP_END);
	CORRUPT(l1, d->args[3].code[0].param = d->pool_used);
	CORRUPT(l1, d->args[3].code[0].op = PK_FOP_IMM; d->args[3].code[1].op = PK_FOP_ST_MEM);
	CORRUPT(l1, d->args[3].code[1] = d->args[3].code[0]);
	CORRUPT(l2, d->args[0].code[0].op = PK_FOP_ARG);
	CORRUPT(l2, d->flags &= ~PK_EVF_RETURN);
	CORRUPT(l2, d->nentry = 0);
	CORRUPT(l2, d->nentry = 129);
	CORRUPT(l2, d->entry_arg[0] = PK_EV_MAX_STACK);
	CORRUPT(l2, d->args[1].code[0].offset = 8);
	CORRUPT(l2, d->args[1].code[0].offset = -8);
	CORRUPT(l2, d->args[1].code[0].offset = 4);
	CORRUPT(l2, d->args[2].code[1].op = PK_FOP_STACKP);
	CORRUPT(l2, d->args[2].code[0].size = 2);
	CORRUPT(l2, d->args[2].code[0].param = 0xffff);
	CORRUPT(l2, d->flags |= PK_EVF_USER);
	CORRUPT("p /bin/true:0x10 a=@+0x10", d->flags &= ~PK_EVF_FILE);
	CORRUPT("p /bin/true:0x10 a=@+0x10", d->form = PK_EV_FORM_SYMBOL);
	CORRUPT("p f $stack3", d->args[0].code[0].imm = 1ull << 32);
	CORRUPT("p f $arg3", d->args[0].code[0].param = PK_EV_MAX_STACK);
	CORRUPT("p f $arg3", d->flags &= ~PK_EVF_FENTRY);
	CORRUPT("-:a/b x", d->args[0].comm = d->pool_used);
	CORRUPT("-:a/b x", d->form = PK_EV_FORM_SYMBOL);
	/* A definition shorter than what it uses is refused before it is read. */
	CHECK_EQ(pk_event_parse(&def, l1, NULL), 0);
	CHECK_EQ(pk_event_validate(&def, pk_event_size(&def)), 0);
	CHECK_EQ(pk_event_validate(&def, pk_event_size(&def) - 1), -EINVAL);
	CHECK_EQ(pk_event_validate(&def, offsetof(struct pk_event_def, args) - 1), -EINVAL);
	/* Packed, its pool right after its arguments; anywhere else it is refused. */
	CHECK(pk_event_pack(&def) < 2048);
	CHECK_EQ(pk_event_validate(&def, pk_event_size(&def)), 0);
	def.pool_at += 8;
	CHECK_EQ(pk_event_validate(&def, sizeof(def)), -EINVAL);
}

/* Random damage is either refused or harmless (the fetch test runs what passes). */
static void test_validate_random(void)
{
	static const char *const lines[] = {
	    "p:g/e f a=+8(%di):u32 s=+0(%si):string b=+0(%ax):b4@2/32[2] c=\\\"x\"",
	    "r g $retval $arg2 x=@jiffies:s8[3] y=+0(+8(%ax)):string[4]",
	    "p /bin/true:0x10 a=@+0x10:x16 b=$comm c=+u0(%di):ustring",
	};
	unsigned int seed = 12345, i, k, accepted = 0;

	for (i = 0; i < 30000; i++) {
		CHECK_EQ(pk_event_parse(&def, lines[i % 3], NULL), 0);
		for (k = 0; k < 1 + i % 4; k++) {
			size_t at;

			seed = seed * 1103515245u + 12345u;
			/* Mostly the header and the first arguments, where the fields are. */
			at = (seed >> 8) % (offsetof(struct pk_event_def, args) +
					    4 * sizeof(struct pk_event_arg));
			((uint8_t *)&def)[at] ^= (uint8_t)(1u << ((seed >> 4) & 7));
		}
		if (!pk_event_validate(&def, sizeof(def)))
			accepted++;
	}
	/* Flipping padding or unused slots keeps a valid definition valid. */
	CHECK(accepted > 0 && accepted < 30000);
}

int main(void)
{
	RUN(test_valid);
	RUN(test_arg_count);
	RUN(test_errors);
	RUN(test_error_order);
	RUN(test_error_report);
	RUN(test_error_set);
	RUN(test_resolve);
	RUN(test_validate);
	RUN(test_validate_random);
	TEST_EXIT();
}
