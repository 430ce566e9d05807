// SPDX-License-Identifier: MIT
/*
 * Calling functions inside another process (the ground work of attaching):
 * the call returns its value, the program goes on exactly as before, also
 * when it was stopped in a blocking read, and dlopen() loads a library.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/inject.h"
#include "pk_test.h"
#include "sym/sym.h"

/* A child that echoes what it reads from @in to @out, one byte at a time. */
static pid_t start_echo(int *to_child, int *from_child)
{
	int a[2], b[2];
	pid_t pid;

	if (pipe(a) || pipe(b))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1)
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	*to_child = a[1];
	*from_child = b[0];
	return pid;
}

/* A forked child has libc where we have it: our own lookup gives its addresses. */
static unsigned long addr_of(const char *spec)
{
	struct pk_sym_info si;

	return pk_sym_lookup(spec, &si) ? 0 : si.start;
}

static void test_call_in_blocked_read(void)
{
	int to, from, status;
	pid_t pid = start_echo(&to, &from);
	struct pk_inject in;
	unsigned long ret = 0, fn = addr_of("libc.so.6:getpid");
	char c = 0;

	CHECK(pid > 0);
	usleep(50000); /* let it block in read() */
	CHECK_EQ(pk_inject_attach(&in, pid), 0);
	CHECK_EQ(pk_inject_call(&in, fn, NULL, 0, &ret), 0);
	CHECK_EQ((long)ret, pid);
	CHECK_EQ(pk_inject_detach(&in), 0);
	/* The interrupted read() was restarted: the child still echoes. */
	CHECK_EQ(write(to, "x", 1), 1);
	CHECK_EQ(read(from, &c, 1), 1);
	CHECK_EQ(c, 'x');
	close(to);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(from);
}

static void test_dlopen_in_child(void)
{
	int to, from, status;
	pid_t pid = start_echo(&to, &from);
	struct pk_inject in;
	unsigned long ret = 0, args[2], fn = addr_of("libc.so.6:dlopen");
	char maps[64], line[512], c = 0;
	FILE *f;
	int found = 0;

	CHECK(fn != 0);
	usleep(50000);
	CHECK_EQ(pk_inject_attach(&in, pid), 0);
	args[0] = pk_inject_push_string(&in, "libm.so.6");
	args[1] = RTLD_NOW;
	CHECK(args[0] != 0);
	CHECK_EQ(pk_inject_call(&in, fn, args, 2, &ret), 0);
	CHECK(ret != 0); /* a handle */
	CHECK_EQ(pk_inject_detach(&in), 0);
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "r");
	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, "libm.so.6") != NULL;
	if (f)
		fclose(f);
	CHECK(found);
	CHECK_EQ(write(to, "y", 1), 1);
	CHECK_EQ(read(from, &c, 1), 1);
	CHECK_EQ(c, 'y');
	close(to);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(from);
}

static void test_errors(void)
{
	struct pk_inject in;

	CHECK_EQ(pk_inject_attach(&in, 999999999), -ESRCH);
	CHECK_EQ(pk_inject_call(&in, 0, NULL, 0, NULL), -EINVAL);
}

int main(void)
{
	RUN(test_call_in_blocked_read);
	RUN(test_dlopen_in_child);
	RUN(test_errors);
	TEST_EXIT();
}
