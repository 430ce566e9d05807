// SPDX-License-Identifier: MIT
/* Every refusal of the registration API, each with its own errno. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probekit.h"
#include "pk_test.h"

long t_helper3(long);
long t_int3(void);
extern char t_int3_at[], t_xbegin_at[], t_value[];

static int pre(struct pk_probe *p, struct pk_regs *r)
{
	(void)p;
	(void)r;
	return 0;
}

static int reg(struct pk_probe *p)
{
	int err = pk_register_probe(p);

	if (!err)
		pk_unregister_probe(p);
	return err;
}

__attribute__((noipa)) long two_insns(long a)
{
	/* movabs is 10 bytes long: +1 .. +9 are inside it. */
	long v;

	__asm__ volatile("movabs $0x1122334455667788, %0" : "=r"(v));
	return v + a;
}

static void test_enoent(void)
{
	struct pk_probe p = {.symbol_name = "no_such_function_xyz", .pre_handler = pre};

	CHECK_EQ(reg(&p), -ENOENT);
	p.symbol_name = "libnosuch.so.7:deflate";
	CHECK_EQ(reg(&p), -ENOENT);
	p.symbol_name = "libz.so.1:no_such_function_xyz";
	CHECK_EQ(reg(&p), -ENOENT);
}

static void test_eilseq(void)
{
	struct pk_probe p = {.symbol_name = "two_insns", .pre_handler = pre};
	unsigned char *f = (unsigned char *)(void *)two_insns;
	unsigned int off;
	int ok = 0, bad = 0;

	/* Walk the first bytes: exactly the instruction starts are accepted. */
	for (off = 0; off < 12; off++) {
		int err;

		p.offset = off;
		p.addr = NULL;
		err = reg(&p);
		if (err == 0)
			ok++;
		else if (err == -EILSEQ)
			bad++;
		else
			CHECK_EQ(err, -EILSEQ);
	}
	CHECK(ok >= 2);
	CHECK(bad >= 9);
	/* The movabs itself, found by its opcode, and one byte into it. */
	for (off = 0; off < 8; off++)
		if ((f[off] & 0xf8) == 0x48 && (f[off + 1] & 0xf8) == 0xb8)
			break;
	CHECK(off < 8);
	p.offset = off;
	p.addr = NULL;
	CHECK_EQ(reg(&p), 0);
	p.offset = off + 1;
	p.addr = NULL;
	CHECK_EQ(reg(&p), -EILSEQ);
	p.offset = off + 9;
	p.addr = NULL;
	CHECK_EQ(reg(&p), -EILSEQ);
}

static void test_einval(void)
{
	struct pk_probe p = {0};
	char buf[4096], *line;

	p.symbol_name = "t_helper3";
	CHECK_EQ(reg(&p), -EINVAL); /* no handler */
	p.pre_handler = pre;
	p.addr = (void *)t_helper3;
	CHECK_EQ(reg(&p), -EINVAL); /* both symbol and address */
	p.symbol_name = NULL;
	p.addr = NULL;
	CHECK_EQ(reg(&p), -EINVAL); /* neither */
	p.addr = (void *)t_helper3;
	p.flags = 0x100;
	CHECK_EQ(reg(&p), -EINVAL); /* unknown flag */
	p.flags = 0;
	p.addr = (void *)pk_register_probe;
	CHECK_EQ(reg(&p), -EINVAL); /* the engine's own code */
	p.addr = NULL;
	p.symbol_name = "two_insns";
	p.offset = 100000;
	CHECK_EQ(reg(&p), -EINVAL); /* offset beyond the function */
	p.offset = 0;
	CHECK_EQ(pk_register_probe(NULL), -EINVAL);
	CHECK_EQ(pk_register_probes(NULL, 1), -EINVAL);
	CHECK_EQ(pk_register_retprobes(NULL, 1), -EINVAL);

	/* Every blacklisted range refuses its first byte. */
	pk_show_blacklist(buf, sizeof(buf));
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long start = strtoul(line, NULL, 16);
		struct pk_probe q = {.addr = (void *)start, .pre_handler = pre};

		CHECK_EQ(reg(&q), -EINVAL);
	}
}

static int ret_h(struct pk_retprobe_instance *ri, struct pk_regs *r)
{
	(void)ri;
	(void)r;
	return 0;
}

static void test_retprobe_einval(void)
{
	struct pk_retprobe rp = {.kp.symbol_name = "two_insns", .handler = ret_h};

	rp.kp.offset = 1;
	CHECK_EQ(pk_register_retprobe(&rp), -EINVAL); /* not the function entry */
	rp.kp.offset = 0;
	rp.maxactive = -1;
	CHECK_EQ(pk_register_retprobe(&rp), -EINVAL);
	rp.maxactive = 0;
	rp.data_size = 1 << 20;
	CHECK_EQ(pk_register_retprobe(&rp), -EINVAL);
	rp.data_size = 0;
	rp.handler = NULL;
	CHECK_EQ(pk_register_retprobe(&rp), -EINVAL);
	rp.handler = ret_h;
	CHECK_EQ(pk_register_retprobe(&rp), 0);
	CHECK_EQ(pk_register_retprobe(&rp), -EEXIST);
	pk_unregister_retprobe(&rp);
}

static void test_efault(void)
{
	struct pk_probe p = {.addr = t_value, .pre_handler = pre};
	void *m;

	CHECK_EQ(reg(&p), -EFAULT); /* data, not text */
	p.addr = (void *)0x10;
	CHECK_EQ(reg(&p), -EFAULT); /* not mapped */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p.addr = m;
	CHECK_EQ(reg(&p), -EFAULT);
	munmap(m, 4096);
	CHECK_EQ(reg(&p), -EFAULT);
}

static void test_eopnotsupp(void)
{
	struct pk_probe p = {.addr = t_int3_at, .pre_handler = pre};

	CHECK_EQ(reg(&p), -EOPNOTSUPP); /* someone else's int3 */
	p.addr = t_xbegin_at;
	CHECK_EQ(reg(&p), -EOPNOTSUPP); /* its abort path cannot be moved */
}

static void test_eexist(void)
{
	struct pk_probe p = {.addr = (void *)t_helper3, .pre_handler = pre};

	CHECK_EQ(pk_register_probe(&p), 0);
	CHECK_EQ(pk_register_probe(&p), -EEXIST);
	pk_unregister_probe(&p);
	/* Registering again after unregistering is fine, also by symbol. */
	CHECK_EQ(pk_register_probe(&p), 0);
	pk_unregister_probe(&p);
	p.addr = NULL;
	p.symbol_name = "t_helper3";
	CHECK_EQ(pk_register_probe(&p), 0);
	CHECK(p.addr == (void *)t_helper3);
	pk_unregister_probe(&p);
	CHECK_EQ(pk_register_probe(&p), 0); /* addr was filled in by us: still accepted */
	pk_unregister_probe(&p);
}

static void test_erange(void)
{
	/*
	 * Code whose every neighbour within 2 GiB is taken: no slot can be
	 * placed where its jump back would reach.
	 */
	size_t span = 5UL << 30;
	unsigned char *res, *code;
	struct pk_probe p = {.pre_handler = pre};

	res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(res != MAP_FAILED);
	if (res == MAP_FAILED)
		return;
	code = res + (span / 2 & ~4095UL);
	code = mmap(code, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(code != MAP_FAILED);
	memcpy(code, "\x48\x89\xf8\xc3", 4); /* mov rax, rdi; ret */
	p.addr = code;
	CHECK_EQ(reg(&p), -ERANGE);
	munmap(res, span);
}

__attribute__((unused)) static void test_enomem(void)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		struct rlimit rl = {0, 0};
		struct pk_probe p = {.addr = (void *)t_helper3, .pre_handler = pre};
		/* A far-away code page needs a new slot chunk, which the limit forbids. */
		unsigned char *code =
		    mmap((void *)0x100000000000UL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (code == MAP_FAILED)
			_exit(100);

		memcpy(code, "\x48\x89\xf8\xc3", 4);
		p.addr = code;
		getrlimit(RLIMIT_AS, &rl);
		rl.rlim_cur = 1;
		setrlimit(RLIMIT_AS, &rl);
		_exit(-pk_register_probe(&p));
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), ENOMEM);
}

int main(void)
{
	RUN(test_enoent);
	RUN(test_eilseq);
	RUN(test_einval);
	RUN(test_retprobe_einval);
	RUN(test_efault);
	RUN(test_eopnotsupp);
	RUN(test_eexist);
	RUN(test_erange);
#ifdef __SANITIZE_ADDRESS__
	/* ASan maps terabytes of shadow at start: an address-space limit breaks ASan itself. */
	printf("SKIP test_enomem: RLIMIT_AS cannot be lowered under ASan\n");
#else
	RUN(test_enomem);
#endif
	TEST_EXIT();
}
