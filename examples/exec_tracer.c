// SPDX-License-Identifier: MIT
/*
 * exec_tracer: the do_execve tracer of the kernel articles, for a process.
 * Prints one line for each program the process executes and each file it
 * opens:
 *
 *   |pid:   4242 |comm:     worker |filename = /bin/true|
 *
 * The kernel module probed do_execve; here the entries are libc's system
 * call wrappers. glibc's open(), open64() and fopen() reach open64 while
 * openat() reaches openat, and several of these names are aliases of one
 * function, so every name that exists is looked up and each distinct
 * address gets one probe.
 *
 *   LD_PRELOAD=build/examples/exec_tracer.so build/demo/worker
 */
#define KBUILD_MODNAME "exec_tracer"

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <probekit.h>

#include "module.h"

#define TASK_COMM_LEN 16
#define FILENAME_LEN  256

struct traced {
	const char *symbol;
	unsigned int path_arg; /* which argument (from 0) is the file name */
	unsigned long hits;
	struct pk_probe kp;
};

static struct traced traced[] = {
	{.symbol = "execve", .path_arg = 0},
	{.symbol = "openat", .path_arg = 1},
	{.symbol = "openat64", .path_arg = 1},
	{.symbol = "open64", .path_arg = 0},
};
#define NR_TRACED (sizeof(traced) / sizeof(traced[0]))

static struct pk_probe *planted[NR_TRACED];
static int nr_planted;
/* Read once at init: a handler may interrupt code that holds stdio or malloc locks. */
static char comm[TASK_COMM_LEN] = "?";
static size_t page_size;

/*
 * Copy the string at @src into @dst (@size bytes, always terminated), as
 * the kernel's strncpy_from_user(). A single read of @size bytes would fail
 * for a short string that ends just before an unmapped page, so read up to
 * each page end and stop at the NUL.
 * Returns the length, or -EFAULT if the string runs into unreadable memory.
 */
static long read_string_nofault(char *dst, const char *src, size_t size)
{
	size_t done = 0;

	while (done < size - 1) {
		uintptr_t at = (uintptr_t)src + done;
		size_t chunk = page_size - (at & (page_size - 1));
		const char *nul;

		if (chunk > size - 1 - done)
			chunk = size - 1 - done;
		if (pk_read_nofault(dst + done, (const void *)at, chunk)) {
			dst[done] = '\0';
			return -EFAULT;
		}
		nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	/* Too long for the buffer: show the beginning. */
	dst[done] = '\0';
	return (long)done;
}

static int handler_pre(struct pk_probe *p, struct pk_regs *regs)
{
	struct traced *t = container_of(p, struct traced, kp);
	const char *path = (const char *)pk_regs_get_argument(regs, t->path_arg);
	char filename[FILENAME_LEN];

	__atomic_fetch_add(&t->hits, 1, __ATOMIC_RELAXED);
	if (read_string_nofault(filename, path, sizeof(filename)) < 0)
		strcpy(filename, "(fault)");
	/* getpid(), not a cached value: after fork() the child reports its own pid. */
	fprintf(stderr, "|pid: %6d |comm: %10s |filename = %s|\n", (int)getpid(), comm, filename);
	return 0;
}

static void read_comm(void)
{
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0) {
		strcpy(comm, "?");
		return;
	}
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
}

static int exec_tracer_init(void)
{
	void *seen[NR_TRACED];
	size_t i;
	int j, ret;

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	read_comm();
	for (i = 0; i < NR_TRACED; i++) {
		struct traced *t = &traced[i];
		void *addr = pk_lookup_name(t->symbol);

		if (!addr)
			continue;
		for (j = 0; j < nr_planted && seen[j] != addr; j++)
			;
		/* An alias of a function already traced: a second probe would print twice. */
		if (j < nr_planted)
			continue;
		t->kp.symbol_name = t->symbol;
		t->kp.pre_handler = handler_pre;
		seen[nr_planted] = addr;
		planted[nr_planted++] = &t->kp;
	}
	if (!nr_planted) {
		fprintf(stderr, KBUILD_MODNAME ": none of execve, openat, open64 found\n");
		return -ENOENT;
	}
	ret = pk_register_probes(planted, nr_planted);
	if (ret < 0) {
		fprintf(stderr, KBUILD_MODNAME ": pk_register_probes failed, returned %d\n", ret);
		return ret;
	}
	for (j = 0; j < nr_planted; j++) {
		char where[256];

		pk_sprint_symbol(where, sizeof(where), planted[j]->addr);
		fprintf(stderr, KBUILD_MODNAME ": Planted probe at %p (%s)\n", planted[j]->addr,
			where);
	}
	return 0;
}

static void exec_tracer_exit(void)
{
	int j;

	pk_unregister_probes(planted, nr_planted);
	for (j = 0; j < nr_planted; j++) {
		struct traced *t = container_of(planted[j], struct traced, kp);

		fprintf(stderr,
			KBUILD_MODNAME ": probe on %s unregistered: %lu hits, nmissed = %lu\n",
			t->symbol, t->hits, t->kp.nmissed);
	}
}

module_init(exec_tracer_init);
module_exit(exec_tracer_exit);
