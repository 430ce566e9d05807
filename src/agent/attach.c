// SPDX-License-Identifier: MIT
/*
 * The agent's side of `probekit trace -p`: the tracer has the process call
 * pk_agent_attach() (through ptrace, on one of its threads), which connects
 * back to the tracer and leaves everything else to a thread of its own, so
 * that the borrowed thread is given back within microseconds.
 *
 * That thread serves one tracer: it takes the control block and ring,
 * arms, and then sits in a read() on the socket. A detach command or the
 * socket closing (the tracer died, even by SIGKILL) ends the session: its
 * probes are removed and, if it was the last, the engine is handed back.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/proto.h"
#include "internal.h"

/* How long a detach waits for frames returning through the trampoline. */
#define DETACH_WAIT_MS 2000

/* Loads of the agent whose tracer died without dlclose: see pk_agent_reply. */
static unsigned int orphans;

/*
 * The session threads run on stacks of our own, not glibc's 8 MiB default
 * that its stack cache keeps mapped after the thread is gone: each is
 * unmapped once its thread has been joined, by the next attach or when
 * the agent is unloaded.
 */
#define STACK_SIZE  (512 << 10)
#define MAX_THREADS 64
static struct agent_thread {
	pthread_t th;
	void *stack;
	int sock;
	int done; /* the thread is on its way out: joining it does not wait */
} threads[MAX_THREADS];
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;

static int recv_cmd(int sock, char *cmd, int fds[2])
{
	char ctrl[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = {cmd, 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)};
	struct cmsghdr *c;
	ssize_t n;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(c), 2 * sizeof(int));
	return 0;
}

static int send_all(int sock, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = send(sock, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void send_list(int sock)
{
	char *text = NULL;
	size_t len = 0;
	uint64_t n;
	FILE *f = open_memstream(&text, &len);

	if (f) {
		pk_agent_list(f);
		fclose(f);
	}
	n = text ? len : 0;
	if (!send_all(sock, &n, sizeof(n)) && n)
		send_all(sock, text, len);
	free(text);
}

void pk_agent_reap_threads(void)
{
	int i;

	pthread_mutex_lock(&threads_lock);
	for (i = 0; i < MAX_THREADS; i++) {
		if (!threads[i].stack || !__atomic_load_n(&threads[i].done, __ATOMIC_ACQUIRE))
			continue;
		pthread_join(threads[i].th, NULL);
		munmap(threads[i].stack, STACK_SIZE);
		threads[i].stack = NULL;
	}
	pthread_mutex_unlock(&threads_lock);
}

static void *session_thread(void *arg)
{
	struct agent_thread *self = arg;
	int sock = self->sock, fds[2] = {-1, -1};
	struct agent_session *s = NULL;
	struct pk_agent_reply reply = {0};
	char cmd = 0;

	pk_agent_busy = 1;
	if (!recv_cmd(sock, &cmd, fds)) {
		if (cmd == PK_ATTACH_TRACE && fds[0] >= 0 && fds[1] >= 0)
			s = pk_agent_session_start(fds[0], fds[1], 0);
		else if (cmd == PK_ATTACH_LIST)
			send_list(sock);
		/* Until told to go, or until the tracer is gone: either ends it. */
		while (recv_cmd(sock, &cmd, fds) == 0 && cmd != PK_ATTACH_DETACH)
			;
	}
	reply.err = pk_agent_session_end(s, DETACH_WAIT_MS);
	reply.pending = pk_retprobe_pending();
	reply.tid = (int32_t)pk_sys(SYS_gettid, 0, 0, 0);
	if (cmd != PK_ATTACH_DETACH)
		/* The tracer is gone: its load of the agent is left to whoever leaves last. */
		__atomic_fetch_add(&orphans, 1, __ATOMIC_RELAXED);
	else if (!reply.err && !pk_agent_live_sessions())
		reply.orphans = __atomic_exchange_n(&orphans, 0, __ATOMIC_RELAXED);
	send_all(sock, &reply, sizeof(reply));
	close(sock);
	__atomic_store_n(&self->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/**
 * pk_agent_attach() - connect to the tracer listening on @sockname and
 * start serving it from a new thread.
 * @sockname: the name of an abstract unix socket, without the leading NUL.
 *
 * Called by the tracer on a thread of this process it borrowed with
 * ptrace, so it returns at once.
 *
 * Return: 0, -ENAMETOOLONG, -EPERM (the listener is neither root nor our
 * user), or the errno of socket(), connect() or pthread_create().
 */
PK_API int pk_agent_attach(const char *sockname)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(sockname);
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	pthread_attr_t at;
	struct agent_thread *slot = NULL;
	sigset_t block, old;
	void *stack;
	int fd, err, i;

	if (n + 1 > sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path + 1, sockname, n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl)) {
		err = -errno;
		close(fd);
		return err;
	}
	/* Whoever can bind a name can wait there: only root or our own user may drive us. */
	if (cr.uid != 0 && cr.uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	/* The program's signals are not for our thread; the engine's traps and faults must be. */
	sigfillset(&block);
	sigdelset(&block, SIGTRAP);
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGILL);
	pthread_sigmask(SIG_SETMASK, &block, &old);
	pk_agent_reap_threads();
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_lock(&threads_lock);
	for (i = 0; i < MAX_THREADS && !slot; i++)
		if (!threads[i].stack)
			slot = &threads[i];
	err = slot ? 0 : -EAGAIN;
	if (slot) {
		slot->stack = stack;
		slot->sock = fd;
		slot->done = 0;
		pthread_attr_init(&at);
		pthread_attr_setstack(&at, stack, STACK_SIZE);
		err = -pthread_create(&slot->th, &at, session_thread, slot);
		pthread_attr_destroy(&at);
		if (err)
			slot->stack = NULL;
	}
	pthread_mutex_unlock(&threads_lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		munmap(stack, STACK_SIZE);
		close(fd);
		return err;
	}
	pthread_setname_np(slot->th, "probekit-agent");
	return 0;
}
