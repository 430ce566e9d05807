// SPDX-License-Identifier: MIT
/*
 * The in-process side of `probekit trace`: preloaded into the traced
 * program, it maps the control block and the ring the CLI created, checks
 * every compiled definition it was given, plants the probes before main()
 * runs, and on each hit runs the definition's fetch program and writes one
 * record into the ring. It never blocks the program: a full ring drops the
 * record and counts it. It prints nothing; what went wrong is reported in
 * the control block for the CLI to print.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/proto.h"
#include "sym/sym.h"
#include "internal.h"
#include "ring/ring.h"

/* The largest record the agent builds: header, fixed fields and strings. */
#define SCRATCH_SIZE (sizeof(struct pk_trace_hdr) + PK_EV_MAX_EVENT_SIZE + 2 * PK_EV_MAX_STRING)

struct agent_event {
	struct pk_probe kp;
	struct pk_retprobe rp;
	struct pk_event_def *def;
	struct pk_agent_event *st;
	unsigned int id;
	unsigned long file_base;
	char spec[PK_EV_NAME_SIZE * 4];
};

static struct pk_agent_ctl *ctl;
static size_t ctl_size;
static struct pk_ring ring;
static struct agent_event *events;
static unsigned int nevents;

/* Per-thread record scratch, mapped on a thread's first hit (mmap is a plain syscall). */
static __thread char *scratch PK_IE;
static __thread char comm_cache[16] PK_IE;
/* Ids are constant for a thread: one system call each per thread, not per event. */
static __thread long tid_cache PK_IE;
static long pid_cache;
/* Set while the agent itself works (arming reads /proc, calls libc): not the program's events. */
static __thread int in_agent PK_IE;

static pthread_key_t scratch_key;
static int scratch_key_ok;

static char *thread_scratch(void)
{
	long p;

	if (scratch)
		return scratch;
	p = pk_syscall6(SYS_mmap, 0, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p < 0 && p > -4096)
		return NULL;
	scratch = (char *)p;
	/* The thread's name, once: a prctl per hit would double the cost. */
	pk_sys(SYS_prctl, PR_GET_NAME, comm_cache, 0);
	tid_cache = pk_sys(SYS_gettid, 0, 0, 0);
	/* Given back when the thread exits: a thread per request must not leak. (Keys below 32 live
	 * in the thread descriptor: no allocation here.) */
	if (scratch_key_ok)
		pthread_setspecific(scratch_key, scratch);
	return scratch;
}

static void scratch_free(void *p)
{
	if (p == scratch)
		scratch = NULL;
	munmap(p, SCRATCH_SIZE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int symbolize(void *ctx, char *buf, size_t size, unsigned long addr)
{
	(void)ctx;
	return pk_sprint_symbol(buf, size, (const void *)addr);
}

/* Fetch, then copy into the ring: the record's length is only known after fetching. */
static void emit(struct agent_event *e, const struct pk_regs *regs, int is_return,
		 const void *edata, uint64_t ip, uint64_t ret_ip)
{
	struct pk_event_env env = {
	    .comm = comm_cache,
	    .entry_data = edata,
	    .entry_size = edata ? pk_event_entry_size(e->def) : 0,
	    .file_base = e->file_base,
	    .symbolize = symbolize,
	};
	struct pk_trace_hdr *h;
	struct pk_ring_res res;
	char *buf = thread_scratch();
	int len;

	if (in_agent)
		return;
	__atomic_fetch_add(&e->st->hits, 1, __ATOMIC_RELAXED);
	if (!buf) {
		pk_ring_reserve(&ring, e->id, ~(size_t)0 >> 1, &res); /* counts it lost */
		return;
	}
	h = (struct pk_trace_hdr *)buf;
	len = pk_event_fetch(e->def, regs, is_return, buf + sizeof(*h), SCRATCH_SIZE - sizeof(*h),
			     &env);
	if (len < 0)
		return;
	h->ts_ns = now_ns();
	h->pid = (uint32_t)pid_cache;
	h->tid = (uint32_t)tid_cache;
	/* glibc reads it from rseq: no system call. */
	h->cpu = (uint32_t)sched_getcpu();
	h->flags = 0;
	h->ip = ip;
	h->ret_ip = ret_ip;
	memcpy(h->comm, comm_cache, sizeof(h->comm));
	h->caller[0] = 0;
	if (is_return)
		pk_sprint_symbol(h->caller, sizeof(h->caller), (const void *)ret_ip);
	if (pk_ring_reserve(&ring, e->id, sizeof(*h) + (size_t)len, &res))
		return; /* full: counted as lost by the ring, the program goes on */
	memcpy(res.data, buf, sizeof(*h) + (size_t)len);
	pk_ring_commit(&ring, &res);
}

static int on_entry(struct pk_probe *p, struct pk_regs *regs)
{
	struct agent_event *e = pk_container_of(p, struct agent_event, kp);

	emit(e, regs, 0, NULL, regs->ip, 0);
	return 0;
}

static int on_ret_entry(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct agent_event *e = pk_container_of(ri->rp, struct agent_event, rp);

	if (e->def->nentry)
		pk_event_fetch_entry(e->def, regs, ri->data, e->rp.data_size);
	return 0;
}

static int on_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	struct agent_event *e = pk_container_of(ri->rp, struct agent_event, rp);

	emit(e, regs, 1, e->def->nentry ? ri->data : NULL, (uintptr_t)e->rp.kp.addr,
	     (uintptr_t)ri->ret_addr);
	return 0;
}

static int lookup(void *ctx, const char *name, unsigned long *addr)
{
	void *a = pk_lookup_name(name);

	(void)ctx;
	if (!a)
		return -ENOENT;
	*addr = (unsigned long)a;
	return 0;
}

struct file_query {
	const char *path;
	uint64_t offset;
	void *addr;
	unsigned long base;
};

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* A loaded object's path; the loader names the executable "", /proc knows it. */
static const char *object_path(const struct dl_phdr_info *info, char *buf, size_t size)
{
	ssize_t n;

	if (info->dlpi_name && *info->dlpi_name)
		return info->dlpi_name;
	n = readlink("/proc/self/exe", buf, size - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

static int file_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct file_query *q = arg;
	char exe[PATH_MAX];
	const char *name = object_path(info, exe, sizeof(exe));
	int i;

	(void)size;
	if (!name || !same_file(name, q->path))
		return 0;
	/* The uprobe form names a file offset: find the segment that maps it. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || q->offset < ph->p_offset ||
		    q->offset >= ph->p_offset + ph->p_filesz)
			continue;
		q->addr = (void *)(info->dlpi_addr + ph->p_vaddr + (q->offset - ph->p_offset));
		q->base = info->dlpi_addr + ph->p_vaddr - ph->p_offset;
		return 1;
	}
	return 0;
}

/* PATH:OFFSET, as uprobe_events takes it: where that byte of PATH is mapped here. */
static int file_offset_addr(const char *path, uint64_t offset, void **addr, unsigned long *base)
{
	struct file_query q = {.path = path, .offset = offset};

	if (access(path, F_OK))
		return -ENOENT;
	if (!dl_iterate_phdr(file_cb, &q))
		return -ENOENT;
	*addr = q.addr;
	*base = q.base;
	return 0;
}

/* The probe point as the engine takes it: "object:symbol", or an address. */
static int probe_point(struct agent_event *e, const char **symbol, void **addr)
{
	const struct pk_event_def *d = e->def;
	const char *obj = pk_event_str(d, d->object), *sym = pk_event_str(d, d->symbol);
	const char *base = strrchr(obj, '/');

	*symbol = NULL;
	*addr = NULL;
	switch (d->form) {
	case PK_EV_FORM_SYMBOL:
	case PK_EV_FORM_FILE_SYMBOL:
		/* A path names its object by file name, as the engine matches it. */
		base = base ? base + 1 : obj;
		if (*base)
			snprintf(e->spec, sizeof(e->spec), "%s:%s", base, sym);
		else
			snprintf(e->spec, sizeof(e->spec), "%s", sym);
		*symbol = e->spec;
		return 0;
	case PK_EV_FORM_ADDR: *addr = (void *)(uintptr_t)d->addr; return 0;
	case PK_EV_FORM_FILE: return file_offset_addr(obj, d->offset, addr, &e->file_base);
	default: return -EINVAL;
	}
}

static int arm(struct agent_event *e)
{
	struct pk_event_resolver r = {.lookup = lookup};
	const char *symbol;
	void *addr;
	int err;

	err = pk_event_resolve(e->def, &r);
	if (err && err != -ENOENT)
		return err;
	err = probe_point(e, &symbol, &addr);
	if (err)
		return err;
	if (e->def->flags & PK_EVF_RETURN) {
		e->rp.kp.symbol_name = symbol;
		e->rp.kp.addr = addr;
		e->rp.kp.offset = symbol ? (unsigned int)e->def->offset : 0;
		e->rp.handler = on_return;
		e->rp.entry_handler = on_ret_entry;
		e->rp.maxactive = e->def->maxactive;
		e->rp.data_size = pk_event_entry_size(e->def);
		err = pk_register_retprobe(&e->rp);
		e->st->addr = (uintptr_t)e->rp.kp.addr;
	} else {
		e->kp.symbol_name = symbol;
		e->kp.addr = addr;
		e->kp.offset = symbol ? (unsigned int)e->def->offset : 0;
		e->kp.pre_handler = on_entry;
		err = pk_register_probe(&e->kp);
		e->st->addr = (uintptr_t)e->kp.addr;
	}
	return err;
}

static int no_symbol(const struct pk_sym_info *si, void *arg)
{
	(void)si;
	(void)arg;
	return 0;
}

/* The object an OBJ:SYM event names, by file name; "" for the other forms. */
static const char *event_object(const struct agent_event *e)
{
	const char *obj = pk_event_str(e->def, e->def->object), *base = strrchr(obj, '/');

	if (e->def->form != PK_EV_FORM_SYMBOL && e->def->form != PK_EV_FORM_FILE_SYMBOL)
		return "";
	return base ? base + 1 : obj;
}

static int object_loaded(const char *base)
{
	return pk_sym_foreach(base, no_symbol, NULL) != -ENOENT;
}

static void set_result(struct agent_event *e, int err)
{
	if (err == -ENOENT && *event_object(e) && !object_loaded(event_object(e))) {
		e->st->state = PK_AGENT_DEFERRED;
		e->st->error = err;
		return;
	}
	e->st->error = err;
	e->st->state = err ? PK_AGENT_FAILED : PK_AGENT_ARMED;
	if (!err)
		pk_sprint_symbol(e->st->where, sizeof(e->st->where),
				 (const void *)(uintptr_t)e->st->addr);
}

static void disarm(struct agent_event *e)
{
	if (e->def->flags & PK_EVF_RETURN) {
		e->st->missed += e->rp.nmissed + e->rp.kp.nmissed;
		pk_unregister_retprobe(&e->rp);
	} else {
		e->st->missed += e->kp.nmissed;
		pk_unregister_probe(&e->kp);
	}
}

/*
 * Deferred events: an OBJ:SYM whose object is not loaded waits for the
 * program to dlopen it, and goes back to waiting when it is dlclosed. The
 * hooks are return probes on dlopen and dlclose, whose handlers run in the
 * thread's normal context (the trampoline, not a signal): registering there
 * is safe, and the loader holds no lock by then.
 */
static struct pk_retprobe dlopen_rp, dlclose_rp;

static int on_dlopen_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	unsigned int i;

	(void)ri;
	if (!regs->ax)
		return 0;
	in_agent = 1;
	for (i = 0; i < nevents; i++) {
		struct agent_event *e = &events[i];

		if (e->st->state == PK_AGENT_DEFERRED && object_loaded(event_object(e)))
			set_result(e, arm(e));
	}
	in_agent = 0;
	return 0;
}

static int on_dlclose_return(struct pk_retprobe_instance *ri, struct pk_regs *regs)
{
	unsigned int i;

	(void)ri;
	(void)regs;
	in_agent = 1;
	for (i = 0; i < nevents; i++) {
		struct agent_event *e = &events[i];

		/* Gone with its object: disarm (its text is unmapped) and wait again. */
		if (e->st->state == PK_AGENT_ARMED && *event_object(e) &&
		    !object_loaded(event_object(e))) {
			disarm(e);
			e->st->state = PK_AGENT_DEFERRED;
		}
	}
	in_agent = 0;
	return 0;
}

static void hook_loader(void)
{
	unsigned int i;
	int any = 0;

	for (i = 0; i < nevents; i++)
		any |= *event_object(&events[i]) != 0;
	if (!any)
		return;
	dlopen_rp.kp.symbol_name = "libc.so.6:dlopen";
	dlopen_rp.handler = on_dlopen_return;
	dlclose_rp.kp.symbol_name = "libc.so.6:dlclose";
	dlclose_rp.handler = on_dlclose_return;
	pk_register_retprobe(&dlopen_rp);
	pk_register_retprobe(&dlclose_rp);
}

static long env_fd(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long fd;

	if (!v || !*v)
		return -1;
	fd = strtol(v, &end, 10);
	return *end || fd < 0 ? -1 : fd;
}

static void publish_ready(void)
{
	__atomic_store_n(&ctl->ready, 1, __ATOMIC_RELEASE);
	pk_syscall6(SYS_futex, (long)&ctl->ready, FUTEX_WAKE, 1, 0, 0, 0);
}

/* The CLI says whether to run: it may give up when a definition was refused. */
static void wait_for_go(void)
{
	struct timespec ts = {0, 500000000};
	int i;

	/* At most 10 s: a tracer that died must not hold the program forever. */
	for (i = 0; i < 20 && !__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE); i++)
		pk_syscall6(SYS_futex, (long)&ctl->go, FUTEX_WAIT, 0, (long)&ts, 0, 0);
	if (__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE) == 2)
		_exit(127);
}

static void agent_setup(int cfd, int rfd);

static const char *refusal(int err)
{
	switch (err) {
	case 0: return NULL;
	case -EINVAL: return "blacklisted: the engine runs it on the trap path";
	case -EOPNOTSUPP: return "its first instruction can be neither relocated nor emulated";
	case -EFAULT: return "not executable text";
	case -EILSEQ: return "not on an instruction boundary";
	default: return strerror(-err);
	}
}

static int list_one(const struct pk_sym_info *si, void *arg)
{
	const char *why = refusal(pk_probe_check(NULL, (void *)si->start));

	fprintf(arg, "%s%s%s%s%s%s\n", si->name, si->is_exe ? "" : " [",
		si->is_exe ? "" : si->object, si->is_exe ? "" : "]", why ? "\t# " : "",
		why ? why : "");
	return 0;
}

static int list_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	char exe[PATH_MAX];
	const char *name = object_path(info, exe, sizeof(exe)), *base;

	(void)size;
	if (!name)
		return 0;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	/* Ourselves: nothing of the agent is the program's. */
	if (!strcmp(base, "libprobekit-agent.so") || !strncmp(base, "linux-vdso", 10))
		return 0;
	pk_sym_foreach(base, list_one, arg);
	return 0;
}

/* probekit list: every function of every loaded object, probeable or why not. */
static void list_functions(int fd)
{
	FILE *out = fdopen(fd, "w");

	if (!out)
		_exit(1);
	in_agent = 1;
	dl_iterate_phdr(list_object, out);
	fclose(out);
	_exit(0);
}

__attribute__((constructor(101))) static void agent_init(void)
{
	long cfd = env_fd(PK_ENV_CTL_FD), rfd = env_fd(PK_ENV_RING_FD);
	long lfd = env_fd(PK_ENV_LIST_FD);

	if (lfd >= 0)
		list_functions((int)lfd);

	if (cfd < 0 || rfd < 0)
		return;
	in_agent = 1;
	agent_setup(cfd, rfd);
	in_agent = 0;
	if (ctl && ctl->ready)
		wait_for_go();
}

/* A forked child keeps tracing into the same ring, under its own ids. */
static void after_fork(void)
{
	pid_cache = getpid();
	tid_cache = pk_sys(SYS_gettid, 0, 0, 0);
}

static void agent_setup(int cfd, int rfd)
{
	struct stat st;
	unsigned int i;

	/* Children the program starts are not traced: take ourselves out of their way. */
	unsetenv(PK_ENV_CTL_FD);
	unsetenv(PK_ENV_RING_FD);
	if (fstat(cfd, &st) || st.st_size < (off_t)sizeof(*ctl))
		return;
	ctl_size = (size_t)st.st_size;
	ctl = mmap(NULL, ctl_size, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	close(cfd);
	if (ctl == MAP_FAILED) {
		ctl = NULL;
		return;
	}
	if (ctl->magic != PK_AGENT_MAGIC || ctl->version != PK_AGENT_VERSION ||
	    ctl->def_size != sizeof(struct pk_event_def) || ctl->nevents > PK_AGENT_MAX_EVENTS ||
	    ctl->defs_offset < sizeof(*ctl) || ctl->defs_offset > ctl_size ||
	    (ctl_size - ctl->defs_offset) / sizeof(struct pk_event_def) < ctl->nevents)
		return;
	scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
	ctl->agent_pid = getpid();
	pid_cache = ctl->agent_pid;
	pthread_atfork(NULL, NULL, after_fork);
	nevents = ctl->nevents;
	if (pk_ring_attach(&ring, rfd)) {
		close(rfd);
		for (i = 0; i < nevents; i++) {
			ctl->ev[i].state = PK_AGENT_FAILED;
			ctl->ev[i].error = -EBADMSG;
		}
		publish_ready();
		return;
	}
	close(rfd);
	events = calloc(nevents ? nevents : 1, sizeof(*events));
	/*
	 * Newest definition first: the kernel runs the uprobe events on one
	 * address in that order, and the trace must read the same.
	 */
	for (i = nevents; events && i-- > 0;) {
		struct agent_event *e = &events[i];
		int err;

		e->id = i;
		e->st = &ctl->ev[i];
		/* Our own copy: the CLI could rewrite the shared one after we checked it. */
		e->def = malloc(sizeof(*e->def));
		if (!e->def) {
			err = -ENOMEM;
		} else {
			memcpy(e->def, (char *)ctl + ctl->defs_offset + (size_t)i * sizeof(*e->def),
			       sizeof(*e->def));
			err = pk_event_validate(e->def, sizeof(*e->def));
			if (!err)
				err = arm(e);
		}
		set_result(e, err);
	}
	if (events)
		hook_loader();
	publish_ready();
}

__attribute__((destructor)) static void agent_exit(void)
{
	unsigned int i;

	if (!events)
		return;
	/* Disarm before the program's text goes away, and leave the final counts. */
	in_agent = 1;
	pk_unregister_retprobe(&dlopen_rp);
	pk_unregister_retprobe(&dlclose_rp);
	for (i = 0; i < nevents; i++)
		if (events[i].st->state == PK_AGENT_ARMED)
			disarm(&events[i]);
}
