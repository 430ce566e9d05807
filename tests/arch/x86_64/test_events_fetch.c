// SPDX-License-Identifier: MIT
/*
 * Fetch programs run on fake registers against real memory (good pointers,
 * NULL, wild ones, a PROT_NONE page), and records printed as the kernel's
 * trace prints them. Where an expected string says "as the kernel", it is
 * what tracefs printed on Linux 6.18 for the same definition on a uprobe.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "events/events.h"
#include "pk_test.h"

struct node {
	struct node *next;
	long v;
	const char *s;
};

struct target {
	int a;
	unsigned char b;
	unsigned int bits;
	char name[8];
	const char *p;
	long arr[4];
	const char *strs[3];
	struct node *list;
};

static struct node n3 = {NULL, 33, "ccc"}, n2 = {&n3, 22, "bbb"}, n1 = {&n2, 11, "aaa"};
static struct target tgt = {
    -5, 0xab, 0xdeadbeef, "hello", "world", {1, -2, 3, LONG_MAX}, {"one", NULL, "three"}, &n1};
static long global_var = 0x1122334455667788;

static struct pk_event_def def;
static uint8_t rec[PK_EV_MAX_RECORD];
static char out[70000];
static int rec_len;
static uint8_t *guard; /* two pages; the second is PROT_NONE */
static long pagesz;

#define OFF(f) (int)offsetof(struct target, f)

static const char *line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *line(const char *fmt, ...)
{
	static char buf[PK_EV_MAX_LINE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static struct pk_regs regs_for(void)
{
	struct pk_regs r;

	memset(&r, 0, sizeof(r));
	r.di = (unsigned long)&tgt;
	r.si = (unsigned long)-1;
	r.dx = (unsigned long)"abc";
	r.sp = (unsigned long)guard;
	return r;
}

/*
 * The definition packed into a buffer of its own size (the rest of the
 * page unmapped, so that a read past it faults) fetches the same record and
 * prints the same text; a byte less is refused.
 */
static void check_packed(const struct pk_regs *regs, int is_return, const struct pk_event_env *env,
			 const struct pk_event_fmt *fmt)
{
	static uint8_t rec2[PK_EV_MAX_RECORD];
	static char out2[70000];
	size_t size = pk_event_size(&def), packed_size, map = (sizeof(def) / pagesz + 2) * pagesz;
	uint8_t *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pk_event_def *p, *tmp = malloc(sizeof(def));
	int n;

	CHECK(m != MAP_FAILED && tmp);
	if (m == MAP_FAILED || !tmp)
		return;
	memcpy(tmp, &def, size);
	packed_size = pk_event_pack(tmp);
	CHECK(packed_size < size || def.nargs == PK_EV_MAX_ARGS);
	/* At the end of the page before a PROT_NONE one, 8-aligned as the control block places it.
	 */
	p = (struct pk_event_def *)(m + map - pagesz - ((packed_size + 7) & ~(size_t)7));
	mprotect(m + map - pagesz, (size_t)pagesz, PROT_NONE);
	memcpy(p, tmp, packed_size);
	CHECK_EQ(pk_event_validate(p, packed_size), 0);
	CHECK_EQ(pk_event_validate(p, packed_size - 1), -EINVAL);
	CHECK(!strcmp(pk_event_str(p, p->symbol), pk_event_str(&def, def.symbol)));
	memset(rec2, 0xa5, sizeof(rec2));
	n = pk_event_fetch(p, regs, is_return, rec2, sizeof(rec2), env);
	CHECK_EQ(n, rec_len);
	if (n == rec_len && n > 0)
		CHECK(!memcmp(rec, rec2, (size_t)n));
	if (n >= 0) {
		pk_event_format(p, rec2, (size_t)n, out2, sizeof(out2), fmt);
		CHECK(!strcmp(out, out2));
	}
	munmap(m, map);
	free(tmp);
}

/* Parse, check, run and print; returns the text or NULL (and fails the case). */
static const char *run(const char *l, const struct pk_regs *regs, int is_return,
		       const struct pk_event_env *env, const struct pk_event_fmt *fmt)
{
	struct pk_event_error err;
	int ret = pk_event_parse(&def, l, &err);

	if (ret) {
		printf("  %s: parse %d %s at %d\n", l, ret, pk_event_errname(err.cause), err.pos);
		pk_t_failed_case = 1;
		return NULL;
	}
	CHECK_EQ(pk_event_validate(&def, sizeof(def)), 0);
	memset(rec, 0xa5, sizeof(rec));
	rec_len = pk_event_fetch(&def, regs, is_return, rec, sizeof(rec), env);
	if (rec_len < 0) {
		printf("  %s: fetch %d\n", l, rec_len);
		pk_t_failed_case = 1;
		return NULL;
	}
	ret = pk_event_format(&def, rec, (size_t)rec_len, out, sizeof(out), fmt);
	CHECK_EQ(ret, (int)strlen(out));
	check_packed(regs, is_return, env, fmt);
	return out;
}

static const char *json(const struct pk_event_fmt *fmt)
{
	pk_event_format_json(&def, rec, (size_t)rec_len, out, sizeof(out), fmt);
	return out;
}

static int faulted(unsigned int i)
{
	return !!(rec[def.fixed_size + i / 8] & (1u << (i % 8)));
}

static void test_numbers(void)
{
	struct pk_regs r = regs_for();

	/* As the kernel: no zero padding for xN, the raw byte for char. */
	CHECK_STR(
	    run(line("p f a=+%d(%%di):s32 b=+%d(%%di):x8 u=+%d(%%di):u8 s=+%d(%%di):s8"
		     " c=+%d(%%di):char bf=+%d(%%di):b4@4/32 x16=+0(%%di):x16 x32=+0(%%di):x32",
		     OFF(a), OFF(b), OFF(b), OFF(b), OFF(b), OFF(bits)),
		&r, 0, NULL, NULL),
	    " a=-5 b=0xab u=171 s=-85 c='\xab' bf=14 x16=0xfffb x32=0xfffffffb");
	CHECK_STR(run("p f n=%si:s64 nx=%si nu=%si:u64 lo=%si:u32 s16=%si:s16 x=\\7:x8", &r, 0,
		      NULL, NULL),
		  " n=-1 nx=0xffffffffffffffff nu=18446744073709551615 lo=4294967295 s16=-1 x=0x7");
	CHECK_STR(json(NULL), "\"n\":-1,\"nx\":18446744073709551615,\"nu\":18446744073709551615,"
			      "\"lo\":4294967295,\"s16\":-1,\"x\":7");
	CHECK_EQ(rec_len, def.dyn_offset);
	/* Bitfields: bits 4..7 of 0xdeadbeef, all 64 bits, the top one. */
	CHECK_STR(run(line("p f a=+%d(%%di):b4@4/32 b=%%si:b64@0/64 c=%%si:b1@63/64 d=\\10:b3@1/8",
			   OFF(bits)),
		      &r, 0, NULL, NULL),
		  " a=14 b=18446744073709551615 c=1 d=5");
}

static void test_registers(void)
{
	struct pk_regs r;
	unsigned long *w = (unsigned long *)&r;
	unsigned int i;

	for (i = 0; i < PK_EV_NREGS; i++)
		w[i] = 0x1111111100000000ul * (i + 1) + i;
	CHECK_STR(run("p f %r15 %bp %ax %di %ip %flags %sp %ss %orig_ax %cs", &r, 0, NULL, NULL),
		  " arg1=0x1111111100000000 arg2=0x5555555500000004 arg3=0xbbbbbbbb0000000a"
		  " arg4=0xffffffff0000000e arg5=0x2222222100000010 arg6=0x4444444300000012"
		  " arg7=0x5555555400000013 arg8=0x6666666500000014 arg9=0x111111100000000f"
		  " arg10=0x3333333200000011");
	/* probekit's names: the assembler's, and 32-bit halves. */
	CHECK_STR(run("p f %rdi %rip %eax %r8d %edi:s32", &r, 0, NULL, NULL),
		  " arg1=0xffffffff0000000e arg2=0x2222222100000010 arg3=0xa arg4=0x9 arg5=14");
}

static void test_strings(void)
{
	struct pk_regs r = regs_for();
	uint8_t *edge = guard + pagesz - 3; /* "ab" then the PROT_NONE page */

	edge[0] = 'a';
	edge[1] = 'b';
	edge[2] = 'c';
	CHECK_STR(run(line("p f name=+%d(%%di):string p=+0(+%d(%%di)):string str=+0(%%dx):string"
			   " u=+u0(%%dx):ustring",
			   OFF(name), OFF(p)),
		      &r, 0, NULL, NULL),
		  " name=\"hello\" p=\"world\" str=\"abc\" u=\"abc\"");
	/* NULL, a wild pointer, a string running into an unmapped page. */
	r.dx = 0;
	r.si = 0x10;
	r.cx = (unsigned long)edge;
	r.bx = (unsigned long)guard + pagesz;
	CHECK_STR(run("p f a=+0(%dx):string b=+0(%si):string c=+0(%cx):string d=+0(%bx):ustring"
		      " e=+8(+0(%dx)):string",
		      &r, 0, NULL, NULL),
		  " a=(fault) b=(fault) c=(fault) d=(fault) e=(fault)");
	CHECK(faulted(0) && faulted(1) && faulted(2) && faulted(3) && faulted(4));
	CHECK_STR(json(NULL), "\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null");
	/* The same string one byte earlier ends before the page does. */
	edge[2] = '\0';
	CHECK_STR(run("p f c=+0(%cx):string", &r, 0, NULL, NULL), " c=\"ab\"");
	CHECK_EQ(rec_len, def.dyn_offset + 3);
	CHECK_EQ(rec[0] | rec[1] << 8 | rec[2] << 16 | rec[3] << 24, 3 << 16 | def.dyn_offset);
	/* $comm (15 bytes at most), a string constant, an immediate address. */
	{
		struct pk_event_env env = {.comm = "a-rather-long-thread-name"};

		CHECK_STR(run(line("p f c=$comm k=\\\"hi\\there\" m=\\%lu:string e=$comm:string",
				   (unsigned long)"imm"),
			      &r, 0, &env, NULL),
			  " c=\"a-rather-long-t\" k=\"hi\\there\" m=\"imm\" e=\"a-rather-long-t\"");
		CHECK_STR(run("p f c=$comm", &r, 0, NULL, NULL), " c=(fault)");
	}
}

static void test_long_strings(void)
{
	static char big[6000];
	struct pk_regs r = regs_for();
	const char *t;
	size_t n;

	memset(big, 'A', sizeof(big) - 1);
	r.dx = (unsigned long)big;
	/* At most PK_EV_MAX_STRING bytes with the NUL. */
	t = run("p f s=+0(%dx):string", &r, 0, NULL, NULL);
	CHECK(t && strlen(t) == 4 + 4095 + 1);
	CHECK_EQ(rec_len, def.dyn_offset + 4096);
	/* With little room left, cut at the room, NUL-terminated. */
	CHECK_EQ(pk_event_fetch(&def, &r, 0, rec, def.dyn_offset + 5, NULL), def.dyn_offset + 5);
	n = (size_t)pk_event_format(&def, rec, def.dyn_offset + 5, out, sizeof(out), NULL);
	CHECK_STR(out, " s=\"AAAA\"");
	CHECK_EQ(n, 9);
	/* No room at all: a fault, as the kernel with a full buffer. */
	CHECK_EQ(pk_event_fetch(&def, &r, 0, rec, def.dyn_offset, NULL), def.dyn_offset);
	pk_event_format(&def, rec, def.dyn_offset, out, sizeof(out), NULL);
	CHECK_STR(out, " s=(fault)");
	CHECK_EQ(pk_event_fetch(&def, &r, 0, rec, def.dyn_offset - 1, NULL), -ENOSPC);
}

static void test_nested(void)
{
	struct pk_regs r = regs_for();
	static struct node bad = {(struct node *)0x10, 44, (const char *)1};
	struct pk_event_fmt fmt = {.flags = PK_EVFMT_FAULTS};

	r.ax = (unsigned long)&n1;
	CHECK_STR(run("p f v1=+8(%ax):s64 v2=+8(+0(%ax)):s64 v3=+8(+0(+0(%ax))):u8"
		      " s3=+0(+16(+0(+0(%ax)))):string",
		      &r, 0, NULL, NULL),
		  " v1=11 v2=22 v3=33 s3=\"ccc\"");
	CHECK_STR(run(line("p f l=+8(+0(+0(+%d(%%di)))):s32", OFF(list)), &r, 0, NULL, NULL),
		  " l=33");
	/* A fault half-way: 0, as the kernel prints a faulted number; flagged. */
	r.ax = (unsigned long)&bad;
	CHECK_STR(
	    run("p f v1=+8(%ax):s64 v2=+8(+0(%ax)):s64 v3=+8(+0(+0(%ax))) s=+0(+16(%ax)):string",
		&r, 0, NULL, NULL),
	    " v1=44 v2=0 v3=0x0 s=(fault)");
	CHECK(!faulted(0) && faulted(1) && faulted(2) && faulted(3));
	pk_event_format(&def, rec, (size_t)rec_len, out, sizeof(out), &fmt);
	CHECK_STR(out, " v1=44 v2=(fault) v3=(fault) s=(fault)");
	CHECK_STR(json(&fmt), "\"v1\":44,\"v2\":null,\"v3\":null,\"s\":null");
	/* NULL itself */
	r.ax = 0;
	CHECK_STR(run("p f v=+0(%ax):u32 w=-8(%ax) x=@0:u8", &r, 0, NULL, NULL), " v=0 w=0x0 x=0");
	CHECK(faulted(0) && faulted(1) && faulted(2));
}

static void test_arrays(void)
{
	struct pk_regs r = regs_for();

	/* As the kernel: {a,b,c}, chars as chars. */
	CHECK_STR(run(line("p f arr=+%d(%%di):s64[4] c=+%d(%%di):char[5] x=+0(%%di):x8[3]"
			   " s=+%d(%%di):string[3] bf=+%d(%%di):b4@4/32[1]",
			   OFF(arr), OFF(name), OFF(strs), OFF(bits)),
		      &r, 0, NULL, NULL),
		  " arr={1,-2,3,9223372036854775807} c={'h','e','l','l','o'} x={0xfb,0xff,0xff}"
		  " s={\"one\",(fault),\"three\"} bf={14}");
	CHECK(faulted(3));
	CHECK_STR(json(NULL),
		  "\"arr\":[1,-2,3,9223372036854775807],\"c\":[\"h\",\"e\",\"l\",\"l\",\"o\"],"
		  "\"x\":[251,255,255],\"s\":[\"one\",null,\"three\"],\"bf\":[14]");
	/* An array running into the unmapped page: the readable elements stay. */
	r.ax = (unsigned long)guard + pagesz - 4;
	memset(guard + pagesz - 4, 7, 4);
	CHECK_STR(run("p f a=+0(%ax):u16[4] b=+0(%ax):u8[2]", &r, 0, NULL, NULL),
		  " a={1799,1799,0,0} b={7,7}");
	CHECK(faulted(0) && !faulted(1));
	/* A string array from an immediate: only the first string has an address. */
	CHECK_STR(run(line("p f s=\\%lu:string[2]", (unsigned long)"imm"), &r, 0, NULL, NULL),
		  " s={\"imm\",(fault)}");
}

static void test_stack_and_args(void)
{
	struct pk_regs r = regs_for();
	unsigned long *stack = (unsigned long *)(guard + pagesz) - 4;

	/* At a function's entry: the return address, then arguments 7 and 8. */
	stack[0] = 0x401234;
	stack[1] = 7;
	stack[2] = (unsigned long)-8;
	stack[3] = 9;
	r.sp = (unsigned long)stack;
	r.di = 1;
	r.si = 2;
	r.dx = 3;
	r.cx = 4;
	r.r8 = 5;
	r.r9 = 6;
	CHECK_STR(run("p f $arg1 $arg2 $arg3 $arg4 $arg5 $arg6 $arg7 $arg8:s32", &r, 0, NULL, NULL),
		  " arg1=0x1 arg2=0x2 arg3=0x3 arg4=0x4 arg5=0x5 arg6=0x6 arg7=0x7 arg8=-8");
	CHECK_STR(
	    run("p f s0=$stack0 s1=$stack1 s3=$stack3:u8 s4=$stack4 s9=$stack9", &r, 0, NULL, NULL),
	    " s0=0x401234 s1=0x7 s3=9 s4=0x0 s9=0x0");
	CHECK(!faulted(2) && faulted(3) && faulted(4));
	CHECK_STR(run("p f $arg10 x=+0($stack):u32", &r, 0, NULL, NULL), " arg1=0x0 x=4198964");
	CHECK(faulted(0));
}

static void test_return(void)
{
	struct pk_regs r = regs_for();
	unsigned long edata[4];
	struct pk_event_env env = {.entry_data = edata, .entry_size = sizeof(edata)};

	CHECK_EQ(pk_event_parse(&def, "r f $arg2 $retval:s32 $arg1 $arg2:s8", NULL), 0);
	CHECK_EQ(pk_event_entry_size(&def), 16);
	r.di = 10;
	r.si = (unsigned long)-3;
	CHECK_EQ(pk_event_fetch_entry(&def, &r, edata, 8), -ENOSPC);
	CHECK_EQ(pk_event_fetch_entry(&def, &r, edata, sizeof(edata)), 0);
	r.di = r.si = 0;
	r.ax = (unsigned long)-7;
	CHECK_STR(run("r f $arg2 $retval:s32 $arg1 $arg2:s8", &r, 1, &env, NULL),
		  " arg1=0xfffffffffffffffd arg2=-7 arg3=0xa arg4=-3");
	CHECK_EQ(pk_event_fetch(&def, &r, 0, rec, sizeof(rec), &env), -EINVAL);
	/* No entry data: faults. */
	CHECK_STR(run("r f $arg1", &r, 1, NULL, NULL), " arg1=0x0");
	CHECK(faulted(0));
	CHECK_STR(run("p f%return $retval", &r, 1, NULL, NULL), " arg1=0xfffffffffffffff9");
	CHECK_STR(run("p f %ax", &r, 0, NULL, NULL), " arg1=0xfffffffffffffff9");
	CHECK_EQ(pk_event_fetch(&def, &r, 1, rec, sizeof(rec), NULL), -EINVAL);
	CHECK_EQ(pk_event_parse(&def, "-:g/e", NULL), 0);
	CHECK_EQ(pk_event_fetch(&def, &r, 0, rec, sizeof(rec), NULL), -EINVAL);
	CHECK_EQ(pk_event_format(&def, rec, sizeof(rec), out, sizeof(out), NULL), -EINVAL);
}

static int lookup(void *ctx, const char *name, unsigned long *addr)
{
	(void)ctx;
	if (strcmp(name, "global_var"))
		return -ENOENT;
	*addr = (unsigned long)&global_var;
	return 0;
}

static void test_memory_args(void)
{
	struct pk_regs r = regs_for();
	struct pk_event_resolver res = {lookup, NULL};
	struct pk_event_env env;

	CHECK_STR(run(line("p f a=@%lu b=@0x%lx:u16 c=@%lu:string", (unsigned long)&global_var,
			   (unsigned long)&global_var, (unsigned long)"at"),
		      &r, 0, NULL, NULL),
		  " a=0x1122334455667788 b=30600 c=\"at\"");
	/* @SYM: a fault until resolved in the traced process. */
	CHECK_STR(run("p f a=@global_var b=@global_var+4:x32", &r, 0, NULL, NULL), " a=0x0 b=0x0");
	CHECK(faulted(0) && faulted(1));
	CHECK_EQ(pk_event_resolve(&def, &res), 0);
	CHECK_EQ(pk_event_fetch(&def, &r, 0, rec, sizeof(rec), NULL), def.dyn_offset);
	pk_event_format(&def, rec, def.dyn_offset, out, sizeof(out), NULL);
	CHECK_STR(out, " a=0x1122334455667788 b=0x11223344");
	/* @+OFFS: from where the probed file's offset 0 is mapped. */
	memset(&env, 0, sizeof(env));
	env.file_base = (unsigned long)&global_var - 0x20;
	CHECK_STR(run("p /bin/true:0x10 a=@+0x20 b=@+0x24:u32 c=+0(@+0x20)", &r, 0, &env, NULL),
		  " a=0x1122334455667788 b=287454020 c=0x0");
	CHECK(faulted(2));
	CHECK_STR(run("p /bin/true:0x10 a=@+0x20", &r, 0, NULL, NULL), " a=0x0");
	CHECK(faulted(0));
}

static int fake_symbol(void *ctx, char *buf, size_t size, unsigned long addr)
{
	(void)ctx;
	if (addr != 0x401234)
		return -1;
	return snprintf(buf, size, "main+0x14/0x90");
}

static int sprint_symbol(void *ctx, char *buf, size_t size, unsigned long addr)
{
	(void)ctx;
	return pk_sprint_symbol(buf, size, (const void *)addr);
}

static void test_symbols(void)
{
	struct pk_regs r = regs_for();
	struct pk_event_env env = {.symbolize = fake_symbol};
	struct pk_event_fmt fmt = {.symbolize = fake_symbol};

	r.ax = 0x401234;
	r.bx = 0x1000;
	CHECK_STR(run("p f a=%ax:symbol b=%bx:symbol c=%ax:symstr d=%bx:symstr", &r, 0, &env, &fmt),
		  " a=main+0x14/0x90 b=0x1000 c=\"main+0x14/0x90\" d=\"0x1000\"");
	CHECK_STR(json(&fmt), "\"a\":\"main+0x14/0x90\",\"b\":\"0x1000\",\"c\":\"main+0x14/0x90\","
			      "\"d\":\"0x1000\"");
	CHECK_STR(run("p f a=%ax:symbol c=%ax:symstr", &r, 0, NULL, NULL),
		  " a=0x401234 c=\"0x401234\"");
	/* The library's own %pS, as the agent would pass it (symbols loaded by a lookup). */
	CHECK(pk_lookup_name("main") != NULL);
	env.symbolize = fmt.symbolize = sprint_symbol;
	r.ax = (unsigned long)&test_symbols;
	CHECK(run("p f a=%ax:symbol b=%ax:symstr", &r, 0, &env, &fmt) != NULL);
	CHECK(!strncmp(out, " a=test_symbols+0x0/0x", 22));
	CHECK(strstr(out, " b=\"test_symbols+0x0/0x") != NULL);
}

static void test_format_damage(void)
{
	struct pk_regs r = regs_for();
	uint32_t bad;
	int n;

	CHECK_EQ(pk_event_parse(&def, "p f s=+0(%dx):string c=%ax:char", NULL), 0);
	rec_len = pk_event_fetch(&def, &r, 0, rec, sizeof(rec), NULL);
	/* A char of 0 prints a NUL, as the kernel: the length says so. */
	n = pk_event_format(&def, rec, (size_t)rec_len, out, sizeof(out), NULL);
	CHECK_EQ(n, 14);
	CHECK(!memcmp(out, " s=\"abc\" c='\0'", 14));
	/* A __data_loc past the record, or into the fixed part's end, reads as a fault. */
	bad = 200u << 16 | (uint32_t)def.dyn_offset;
	memcpy(rec, &bad, 4);
	pk_event_format(&def, rec, (size_t)rec_len, out, sizeof(out), NULL);
	CHECK(!strncmp(out, " s=(fault)", 10));
	bad = 4u << 16 | 0xfffe;
	memcpy(rec, &bad, 4);
	pk_event_format(&def, rec, (size_t)rec_len, out, sizeof(out), NULL);
	CHECK(!strncmp(out, " s=(fault)", 10));
	/* A string without its NUL stops at its length. */
	bad = 2u << 16 | (uint32_t)def.dyn_offset;
	memcpy(rec, &bad, 4);
	pk_event_format(&def, rec, (size_t)rec_len, out, sizeof(out), NULL);
	CHECK(!strncmp(out, " s=\"ab\"", 7));
	CHECK_EQ(pk_event_format(&def, rec, def.dyn_offset - 1, out, sizeof(out), NULL), -EINVAL);
	/* Cut as snprintf(), the full length returned. */
	CHECK_STR(run("p f a=\\1 b=\\2", &r, 0, NULL, NULL), " a=0x1 b=0x2");
	CHECK_EQ(pk_event_format(&def, rec, (size_t)rec_len, out, 5, NULL), 12);
	CHECK_STR(out, " a=0");
	CHECK_EQ(pk_event_format(&def, rec, (size_t)rec_len, NULL, 0, NULL), 12);
	CHECK_EQ(pk_event_format_json(&def, rec, (size_t)rec_len, out, 3, NULL), 11);
	CHECK_STR(out, "\"a");
}

static void test_json_strings(void)
{
	struct pk_regs r = regs_for();

	r.ax = (unsigned long)"q\"b\\n\nt\tc\x01\x7f"
			      "\xc3\xa9"
			      "\xe2\x82\xac"
			      "\xf0\x9f\x98\x80"
			      "\xff\xc3\x28\xed\xa0\x80\xe0\x80\x80";
	CHECK(run("p f s=+0(%ax):string c=+1(%ax):char d=+20(%ax):char", &r, 0, NULL, NULL) !=
	      NULL);
	CHECK_STR(json(NULL),
		  "\"s\":\"q\\\"b\\\\n\\nt\\tc\\u0001\\u007f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
		  "\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080\\u00e0\\u0080\\u0080\",\"c\":\"\\\"\","
		  "\"d\":\"\\u00ff\"");
	/* Text output leaves the bytes as they are, as the kernel. */
	CHECK(run("p f s=+0(%ax):string", &r, 0, NULL, NULL) &&
	      !strncmp(out + 4, (const char *)r.ax, strlen((const char *)r.ax)) &&
	      !strcmp(out + 4 + strlen((const char *)r.ax), "\""));
}

/* Damaged definitions that the validator lets through must still be safe to run. */
static void test_validated_fuzz(void)
{
	static const char *const lines[] = {
	    "p:g/e f a=+8(%di):u32 s=+0(%si):string b=+0(%ax):b4@2/32[2] c=\\\"x\" d=%ax:symstr",
	    "r g $retval $arg2 x=@jiffies:s8[3] y=+0(+8(%ax)):string[4] z=$comm",
	    "p /bin/true:0x10 a=@+0x10:x16 b=$comm c=+u0(%di):ustring d=+0($stack):char[2]",
	};
	static struct pk_event_def d;
	unsigned long edata[8] = {0};
	struct pk_event_env env = {
	    .comm = "c", .entry_data = edata, .entry_size = sizeof(edata), .file_base = 0x1000};
	struct pk_regs r = regs_for();
	unsigned int seed = 777, i, k, ran = 0;
	int n;

	r.ax = (unsigned long)&tgt;
	for (i = 0; i < 20000; i++) {
		CHECK_EQ(pk_event_parse(&d, lines[i % 3], NULL), 0);
		for (k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			((uint8_t *)&d)[(seed >> 8) % (offsetof(struct pk_event_def, args) +
						       6 * sizeof(struct pk_event_arg))] ^=
			    (uint8_t)(1u << ((seed >> 4) & 7));
		}
		if (pk_event_validate(&d, sizeof(d)))
			continue;
		ran++;
		n = pk_event_fetch(&d, &r, !!(d.flags & PK_EVF_RETURN), rec, 512, &env);
		if (n < 0)
			continue;
		CHECK(n >= d.dyn_offset && n <= 512);
		pk_event_format(&d, rec, (size_t)n, out, sizeof(out), NULL);
		pk_event_format_json(&d, rec, (size_t)n, out, sizeof(out), NULL);
		pk_event_fetch_entry(&d, &r, edata, sizeof(edata));
	}
	CHECK(ran > 100);
}

int main(void)
{
	pagesz = sysconf(_SC_PAGESIZE);
	guard = mmap(NULL, 2 * (size_t)pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (guard == MAP_FAILED || mprotect(guard + pagesz, (size_t)pagesz, PROT_NONE))
		return 1;
	RUN(test_numbers);
	RUN(test_registers);
	RUN(test_strings);
	RUN(test_long_strings);
	RUN(test_nested);
	RUN(test_arrays);
	RUN(test_stack_and_args);
	RUN(test_return);
	RUN(test_memory_args);
	RUN(test_symbols);
	RUN(test_format_damage);
	RUN(test_json_strings);
	RUN(test_validated_fuzz);
	TEST_EXIT();
}
