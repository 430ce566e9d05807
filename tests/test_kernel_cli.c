/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend's pieces that need no kprobes to test: trace_pipe
 * lines and format files read back (src/cli/kline.c), the lines of this
 * host's uprobes and those of kprobes, kretprobes and the record-tgid
 * option as 6.x kernels print them, with the JSON each one's arguments
 * become; and list --kernel's sifting of available_filter_functions
 * through a kprobe blacklist (src/cli/cmd_klist.c).
 */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/kline.h"
#include "pk_test.h"

/* A format file as the kernel writes one for a probe event with these arguments. */
static const char format_text[] =
    "name: ev\n"
    "ID: 2326\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:unsigned long __probe_ip;\toffset:8;\tsize:8;\tsigned:0;\n"
    "\tfield:s32 a;\toffset:16;\tsize:4;\tsigned:1;\n"
    "\tfield:__data_loc char[] s;\toffset:20;\tsize:4;\tsigned:1;\n"
    "\tfield:s32 arr[2];\toffset:24;\tsize:8;\tsigned:1;\n"
    "\tfield:char ch;\toffset:32;\tsize:1;\tsigned:0;\n"
    "\tfield:u64 sy;\toffset:33;\tsize:8;\tsigned:0;\n"
    "\tfield:x64 x;\toffset:41;\tsize:8;\tsigned:0;\n"
    "\tfield:u64 u;\toffset:49;\tsize:8;\tsigned:0;\n"
    "\n"
    "print fmt: \"(%lx) a=%d s=\\\"%s\\\" arr={%d,%d} ch='%c' sy=%pS x=0x%Lx u=%Lu\", "
    "REC->__probe_ip, REC->a, __get_str(s), REC->arr[0], REC->arr[1], REC->ch, REC->sy, "
    "REC->x, REC->u\n";

static void test_format(void)
{
	struct pk_kformat f;
	static const char *const names[] = {"a", "s", "arr", "ch", "sy", "x", "u"};
	static const char *const fmts[] = {"%d",  "\"%s\"", "{%d,%d}", "'%c'",
					   "%pS", "0x%Lx",  "%Lu"};
	unsigned int i;

	CHECK_EQ(pk_kformat_parse(format_text, &f), 0);
	CHECK_EQ(f.n, 7);
	for (i = 0; i < 7 && i < f.n; i++) {
		CHECK_STR(f.fields[i].name, names[i]);
		CHECK_STR(f.fields[i].fmt, fmts[i]);
	}
	pk_kformat_free(&f);
	CHECK_EQ(f.n, 0);
	CHECK(f.fields == NULL);

	/* A return probe's: "(%lx <- %lx)" before the arguments. */
	CHECK_EQ(pk_kformat_parse("\tfield:unsigned long __probe_func;\toffset:8;\n"
				  "\tfield:unsigned long __probe_ret_ip;\toffset:16;\n"
				  "\tfield:s64 ret;\toffset:24;\tsize:8;\tsigned:1;\n"
				  "print fmt: \"(%lx <- %lx) ret=%Ld\", REC->__probe_func\n",
				  &f),
		 0);
	CHECK_EQ(f.n, 1);
	if (f.n == 1) {
		CHECK_STR(f.fields[0].name, "ret");
		CHECK_STR(f.fields[0].fmt, "%Ld");
	}
	pk_kformat_free(&f);
}

static int parse(const char *line, struct pk_kline *k)
{
	return pk_kline_parse(line, strlen(line), k);
}

static int piece(const char *p, size_t n, const char *want)
{
	return strlen(want) == n && !memcmp(p, want, n);
}

static void test_uprobe_line(void)
{
	static const char line[] = "    trace_target-8951    [001] DBZff  8059.997802: add: "
				   "(0x55a2450153d0) a=1 s=(fault)";
	struct pk_kline k;

	CHECK_EQ(parse(line, &k), 0);
	CHECK(piece(k.comm, k.comm_len, "trace_target"));
	CHECK_EQ(k.tid, 8951);
	CHECK_EQ(k.tgid, -1);
	CHECK_EQ(k.cpu, 1);
	CHECK(piece(k.flags, k.flags_len, "DBZff"));
	CHECK_EQ(pk_kline_flags_wrapped(&k), 1);
	CHECK_EQ(k.sec, 8059);
	CHECK_EQ(k.usec, 997802);
	CHECK(piece(k.event, k.event_len, "add"));
	CHECK(piece(k.probe, k.probe_len, "0x55a2450153d0"));
	CHECK_STR(k.args, " a=1 s=(fault)");
}

static void test_kprobe_lines(void)
{
	struct pk_kline k;

	CHECK_EQ(parse("             cat-1234    [000] d..3.   123.000042: myprobe: "
		       "(do_sys_openat2+0x0/0x160) dfd=-100",
		       &k),
		 0);
	CHECK(piece(k.comm, k.comm_len, "cat"));
	CHECK_EQ(k.tid, 1234);
	CHECK(piece(k.flags, k.flags_len, "d..3."));
	CHECK_EQ(pk_kline_flags_wrapped(&k), 0);
	CHECK_EQ(k.usec, 42);
	CHECK(piece(k.probe, k.probe_len, "do_sys_openat2+0x0/0x160"));
	CHECK_STR(k.args, " dfd=-100");

	/* A kretprobe, and a task name with a dash and a space in it. */
	CHECK_EQ(parse("   my-prog x-y-77      [002] .....  5.100000: r: (ksys_read+0x6c/0xf0 <- "
		       "vfs_read) ret=12",
		       &k),
		 0);
	CHECK(piece(k.comm, k.comm_len, "my-prog x-y"));
	CHECK_EQ(k.tid, 77);
	CHECK_EQ(k.cpu, 2);
	CHECK(piece(k.probe, k.probe_len, "ksys_read+0x6c/0xf0 <- vfs_read"));

	/* A task the kernel has no name for yet. */
	CHECK_EQ(
	    parse("           <...>-17483   [000] .....  8431.858086: add: (0x55af785503d0)", &k),
	    0);
	CHECK(piece(k.comm, k.comm_len, "<...>"));
	CHECK_STR(k.args, "");

	CHECK_EQ(parse("CPU:1 [LOST 3 EVENTS]", &k), -EINVAL);
	CHECK_EQ(parse("", &k), -EINVAL);
	CHECK_EQ(parse("a-1 [x] ..... 1.0: e: (p)", &k), -EINVAL);
}

static void test_record_tgid(void)
{
	struct pk_kline k;

	CHECK_EQ(parse("    worker-10246   (  10245) [001] .....  8135.131769: e: (0x1) a=1", &k),
		 0);
	CHECK_EQ(k.tid, 10246);
	CHECK_EQ(k.tgid, 10245);
	CHECK(piece(k.comm, k.comm_len, "worker"));
	CHECK_EQ(parse("    worker-8951    (-------) [001] .....  8059.997802: e: (0x1)", &k), 0);
	CHECK_EQ(k.tgid, -1);
	CHECK_EQ(k.tid, 8951);
}

static void json_of(const char *line, size_t len, const char *want)
{
	struct pk_kformat f;
	struct pk_kline k;
	char buf[512];
	int n;

	CHECK_EQ(pk_kformat_parse(format_text, &f), 0);
	CHECK_EQ(pk_kline_parse(line, len, &k), 0);
	n = pk_kline_json_args(&k, line + len, &f, buf, sizeof(buf));
	CHECK_EQ(n, strlen(want));
	CHECK_STR(buf, want);
	/* Cut as snprintf(), the full length still told. */
	CHECK_EQ(pk_kline_json_args(&k, line + len, &f, buf, 8), n);
	CHECK_EQ(strlen(buf), 7);
	pk_kformat_free(&f);
}

static void test_json(void)
{
	static const char l1[] = "  t-1 [000] .....  1.000001: ev: (0x1) a=-5 s=\"two words\" "
				 "arr={3,-4} ch='p' sy=vfs_read+0x0/0x10 x=0x1f "
				 "u=18446744073709551615";
	/* A string that holds what looks like the next argument, and a tab. */
	static const char l2[] = "  t-1 [000] .....  1.000001: ev: (0x1) a=0 s=\"x\" arr={1,2}\t\" "
				 "arr={0,0} ch='\"' sy=0xffff x=0x0 u=0";
	/* A string the kernel could not read, and a NUL char. */
	static const char l3[] = "  t-1 [000] .....  1.000001: ev: (0x1) a=7 s=(fault) arr={0,0} "
				 "ch='\0' sy=f x=0xffffffffffffffff u=1";

	json_of(l1, sizeof(l1) - 1,
		"\"a\":-5,\"s\":\"two words\",\"arr\":[3,-4],\"ch\":\"p\","
		"\"sy\":\"vfs_read+0x0/0x10\",\"x\":31,\"u\":18446744073709551615");
	json_of(l2, sizeof(l2) - 1,
		"\"a\":0,\"s\":\"x\\\" arr={1,2}\\t\",\"arr\":[0,0],\"ch\":\"\\\"\","
		"\"sy\":\"0xffff\",\"x\":0,\"u\":0");
	json_of(l3, sizeof(l3) - 1,
		"\"a\":7,\"s\":null,\"arr\":[0,0],\"ch\":\"\\u0000\",\"sy\":\"f\","
		"\"x\":18446744073709551615,\"u\":1");
}

/* A number the line does not hold as one is null, not a made-up 0. */
static void test_json_not_numbers(void)
{
	static const char l[] = "  t-1 [000] .....  1.000001: ev: (0x1) a=(fault) s=\"\" "
				"arr={x,1} ch='' sy= x=0xzz u=-";

	json_of(l, sizeof(l) - 1,
		"\"a\":null,\"s\":\"\",\"arr\":[null,1],\"ch\":\"\",\"sy\":\"\",\"x\":null,"
		"\"u\":null");
}

static int klist(const char *funcs, const char *bl, const char *ksyms, const char *glob, char *out,
		 size_t size)
{
	/* Copies: the texts are cut up. */
	char *f = strdup(funcs), *b = bl ? strdup(bl) : NULL, *k = ksyms ? strdup(ksyms) : NULL;
	FILE *mem;
	int n;

	memset(out, 0, size);
	mem = fmemopen(out, size - 1, "w");
	n = pk_klist_print(f, b, k, glob, mem);

	fclose(mem);
	free(f);
	free(b);
	free(k);
	return n;
}

/*
 * A blacklist entry removes a function by its name, or by its address
 * within a range (a whole section: entry code, noinstr text), nested
 * ranges included; a module's function keeps its "[module]".
 */
static void test_klist(void)
{
	static const char funcs[] = "vfs_read\n"
				    "do_int3\n"
				    "entry_helper\n"
				    "inner_helper\n"
				    "vfs_write\n"
				    "btrfs_sync_file [btrfs]\n"
				    "mod_blocked [btrfs]\n";
	static const char bl[] = "0xffffffff81000000-0xffffffff81000100\tdo_int3\n"
				 "0xffffffff82000000-0xffffffff82100000\t__entry_text_start\n"
				 "0xffffffff82010000-0xffffffff82010040\tinner_helper\n"
				 "0xffffffffc0001000-0xffffffffc0001040\tmod_blocked [btrfs]\n";
	static const char ksyms[] = "ffffffff81000000 T do_int3\n"
				    "ffffffff81200000 T vfs_read\n"
				    "ffffffff81300000 t vfs_write\n"
				    "ffffffff82000800 t entry_helper\n"
				    "ffffffff82010000 t inner_helper\n"
				    "ffffffff82200000 D entry_helper_data\n"
				    "ffffffffc0000000 t btrfs_sync_file\t[btrfs]\n"
				    "ffffffffc0001000 t mod_blocked\t[btrfs]\n";
	char out[512];

	CHECK_EQ(klist(funcs, bl, ksyms, NULL, out, sizeof(out)), 3);
	CHECK_STR(out, "vfs_read\nvfs_write\nbtrfs_sync_file [btrfs]\n");
	/* Without addresses only the names count: the range's function stays. */
	CHECK_EQ(klist(funcs, bl, NULL, NULL, out, sizeof(out)), 4);
	CHECK_STR(out, "vfs_read\nentry_helper\nvfs_write\nbtrfs_sync_file [btrfs]\n");
	CHECK_EQ(klist(funcs, NULL, ksyms, "vfs_*", out, sizeof(out)), 2);
	CHECK_STR(out, "vfs_read\nvfs_write\n");
	CHECK_EQ(klist(funcs, bl, ksyms, "do_*", out, sizeof(out)), 0);
	CHECK_STR(out, "");
}

int main(void)
{
	RUN(test_format);
	RUN(test_uprobe_line);
	RUN(test_kprobe_lines);
	RUN(test_record_tgid);
	RUN(test_json);
	RUN(test_json_not_numbers);
	RUN(test_klist);
	TEST_EXIT();
}
