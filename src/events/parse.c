// SPDX-License-Identifier: MIT
/*
 * A definition line: its command word, probe point, event name, and the
 * arguments (fetcharg.c compiles each one).
 *
 * The order of the checks is the kernel's, since the first failing check
 * decides which error a line gets: __trace_kprobe_create() for the kprobe
 * forms (maxactive, probe point, event name, $arg*, argument count, then
 * each argument) and __trace_uprobe_create() for PATH:OFFSET (argument count
 * first). Two departures, both where the kernel's uprobe parser ignores
 * input silently: "rN" and an event name are read the kprobe way for every
 * form, and the default group is "probekit".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "events/ev_int.h"
#include "objspec.h"

struct parser {
	struct pk_event_def *def;
	struct pk_ev_log log;
	char **argv;
	int argc;
	bool is_return;
};

static int err_at(struct parser *p, unsigned int word, int offset, enum pk_ev_err cause)
{
	p->log.word = word;
	return pk_ev_log_err(&p->log, offset, cause);
}

static bool kprobe_like(const struct pk_event_def *def)
{
	return !(def->flags & PK_EVF_USER);
}

/*
 * The kernel's sanitize_event_name() ("the first character is never
 * replaced", ':' '.' '*' become '_'), and, since user-space symbols can hold
 * characters that kernel ones never do ('@', '$', '-'...), every other
 * character that an event name may not contain as well.
 */
static void sanitize_event_name(char *name)
{
	while (*name++ != '\0')
		if (*name && !pk_ev_isalnum(*name) && *name != '_')
			*name = '_';
}

/* The name the kernel makes up when the definition gives none. */
static void generate_name(struct parser *p, const char *symbol, long offset)
{
	struct pk_event_def *def = p->def;
	char c = p->is_return ? 'r' : 'p';
	char name[PK_EV_MAX_LINE + 64];
	const char *base;
	size_t n;

	switch (def->form) {
	case PK_EV_FORM_ADDR:
		snprintf(name, sizeof(name), "%c_0x%llx", c, (unsigned long long)def->addr);
		break;
	case PK_EV_FORM_FILE:
		/* "p_" even for a return probe, and the base name up to its first
		 * '.', '-' or '_': as trace_uprobe.c. */
		base = strrchr(pk_event_str(def, def->object), '/');
		base = base ? base + 1 : pk_event_str(def, def->object);
		n = strcspn(base, ".-_");
		snprintf(name, sizeof(name), "p_%.*s_0x%llx", (int)(n < PK_EV_MAX_LINE ? n : 0),
			 base, (unsigned long long)def->offset);
		break;
	default: snprintf(name, sizeof(name), "%c_%s_%ld", c, symbol, offset); break;
	}
	/* Cut as the kernel's snprintf() into MAX_EVENT_NAME_LEN bytes. */
	n = strlen(name);
	if (n >= sizeof(def->event))
		n = sizeof(def->event) - 1;
	memcpy(def->event, name, n);
	def->event[n] = '\0';
	sanitize_event_name(def->event);
	def->flags |= PK_EVF_GENERATED;
}

/* traceprobe_parse_event_name(): "[GROUP/]EVENT" or "GROUP.EVENT" at @offset of word 0. */
static int parse_event_name(struct parser *p, const char *event, int offset, bool *generate)
{
	struct pk_event_def *def = p->def;
	const char *slash = strchr(event, '/');
	size_t len;

	if (!slash)
		slash = strchr(event, '.');
	if (slash) {
		if (slash == event)
			return err_at(p, 0, offset, PK_EVERR_NO_GROUP_NAME);
		if (slash - event + 1 > PK_EV_NAME_SIZE)
			return err_at(p, 0, offset, PK_EVERR_GROUP_TOO_LONG);
		memcpy(def->group, event, (size_t)(slash - event));
		def->group[slash - event] = '\0';
		if (!pk_ev_good_name(def->group, true))
			return err_at(p, 0, offset, PK_EVERR_BAD_GROUP_NAME);
		offset += (int)(slash - event + 1);
		event = slash + 1;
	}
	len = strlen(event);
	if (len == 0) {
		/* "GROUP/" alone: a made-up name in that group (6.18). */
		if (slash) {
			*generate = true;
			return 0;
		}
		return err_at(p, 0, offset, PK_EVERR_NO_EVENT_NAME);
	}
	if (len >= PK_EV_NAME_SIZE)
		return err_at(p, 0, offset, PK_EVERR_EVENT_TOO_LONG);
	if (!pk_ev_good_name(event, false))
		return err_at(p, 0, offset, PK_EVERR_BAD_EVENT_NAME);
	memcpy(def->event, event, len + 1);
	return 0;
}

/* "rN": the kernel's maxactive, up to the ':' of the event name. */
static int parse_maxactive(struct parser *p, const char *event)
{
	const char *w = p->argv[0] + 1;
	char buf[PK_EV_NAME_SIZE];
	unsigned int m;
	size_t len;

	if (!pk_ev_isdigit(*w))
		return 0;
	if (!p->is_return)
		return err_at(p, 0, 1, PK_EVERR_BAD_MAXACT_TYPE);
	len = event ? (size_t)(event - w - 1) : strlen(w);
	if (len > PK_EV_NAME_SIZE - 1)
		return err_at(p, 0, 1, PK_EVERR_BAD_MAXACT);
	memcpy(buf, w, len);
	buf[len] = '\0';
	if (pk_ev_kstrtouint(buf, 0, &m) || !m)
		return err_at(p, 0, 1, PK_EVERR_BAD_MAXACT);
	if (m > PK_EV_MAX_MAXACTIVE)
		return err_at(p, 0, 1, PK_EVERR_MAXACT_TOO_BIG);
	p->def->maxactive = (uint16_t)m;
	return 0;
}

/*
 * "[OBJ:]SYM[+OFFS][%return]", starting at column @col of word 1 (after
 * "PATH:" for PATH:SYM). *@offset gets OFFS.
 */
static int parse_symbol(struct parser *p, const char *word, int col, long *offset)
{
	struct pk_event_def *def = p->def;
	char sym[PK_EV_MAX_LINE];
	char *tmp, *colon;

	memcpy(sym, word, strlen(word) + 1);
	tmp = strchr(sym, '%');
	if (tmp) {
		if (strcmp(tmp, "%return"))
			return err_at(p, 1, col + (int)(tmp - sym), PK_EVERR_BAD_ADDR_SUFFIX);
		*tmp = '\0';
		p->is_return = true;
	}
	/*
	 * traceprobe_split_symbol_offset(), but after the object's name: a
	 * module name never has a '+' or '-', a library's often does
	 * ("libstdc++.so.6", "ld-linux-x86-64.so.2").
	 */
	*offset = 0;
	colon = def->form == PK_EV_FORM_SYMBOL ? (char *)pk_obj_colon(sym) : NULL;
	tmp = strpbrk(colon ? colon + 1 : sym, "+-");
	if (tmp) {
		if (pk_ev_kstrtol(tmp, 0, offset))
			return err_at(p, 1, col, PK_EVERR_BAD_PROBE_ADDR);
		*tmp = '\0';
	}
	if (*offset < 0 || (unsigned long)*offset > UINT_MAX)
		return err_at(p, 1, col, PK_EVERR_BAD_PROBE_ADDR);
	/* kprobe_on_func_entry(): a return probe must be at the entry. */
	if (p->is_return && *offset)
		return err_at(p, 1, col, PK_EVERR_BAD_RETPROBE);

	colon = def->form == PK_EV_FORM_SYMBOL ? (char *)pk_obj_colon(sym) : NULL;
	if (colon)
		*colon++ = '\0';
	/* An empty object or symbol never resolves: the kernel fails it at registration. */
	if (!*sym || (colon && !*colon))
		return err_at(p, 1, col, PK_EVERR_BAD_PROBE_ADDR);
	if (colon) {
		def->object = (uint16_t)pk_ev_pool_add(def, sym, strlen(sym));
		def->symbol = (uint16_t)pk_ev_pool_add(def, colon, strlen(colon));
	} else {
		def->symbol = (uint16_t)pk_ev_pool_add(def, sym, strlen(sym));
	}
	if (!def->symbol || (colon && !def->object))
		return err_at(p, 1, 0, PK_EVERR_LINE_TOO_LONG);
	def->offset = (uint64_t)*offset;
	if (!p->is_return && !*offset)
		def->flags |= PK_EVF_FENTRY;
	return 0;
}

/* "PATH:OFFSET[%return][(REFCTR)]", as __trace_uprobe_create(). */
static int parse_file_offset(struct parser *p, const char *word)
{
	struct pk_event_def *def = p->def;
	char name[PK_EV_MAX_LINE];
	char *arg, *rctr, *rend, *tmp;
	unsigned long v;
	size_t n = strlen(word);

	memcpy(name, word, n + 1);
	arg = strrchr(name, ':');
	*arg++ = '\0';
	rctr = strchr(arg, '(');
	if (rctr) {
		rend = strchr(rctr, ')');
		if (!rend)
			return err_at(p, 1, (int)(rctr + strlen(rctr) - name),
				      PK_EVERR_REFCNT_OPEN_BRACE);
		if (rend[1] != '\0')
			return err_at(p, 1, (int)(rend + 1 - name), PK_EVERR_BAD_REFCNT_SUFFIX);
		*rctr++ = '\0';
		*rend = '\0';
		if (pk_ev_kstrtoul(rctr, 0, &v))
			return err_at(p, 1, (int)(rctr - name), PK_EVERR_BAD_REFCNT);
		def->ref_ctr_offset = v;
	}
	tmp = strchr(arg, '%');
	if (tmp) {
		if (strcmp(tmp, "%return"))
			return err_at(p, 1, (int)(tmp - name), PK_EVERR_BAD_ADDR_SUFFIX);
		*tmp = '\0';
		p->is_return = true;
	}
	if (pk_ev_kstrtoul(arg, 0, &v))
		return err_at(p, 1, (int)(arg - name), PK_EVERR_BAD_UPROBE_OFFS);
	def->offset = v;
	def->object = (uint16_t)pk_ev_pool_add(def, name, strlen(name));
	if (!def->object)
		return err_at(p, 1, 0, PK_EVERR_LINE_TOO_LONG);
	return 0;
}

/* The probe point, word 1. *@symbol gets what a generated name shows. */
static int parse_point(struct parser *p, char *symbol, long *offset)
{
	struct pk_event_def *def = p->def;
	const char *w = p->argv[1], *colon;
	unsigned long addr;
	int ret;

	switch (def->form) {
	case PK_EV_FORM_ADDR:
		/* A number is an address (kstrtoul() with base 0), never a symbol. */
		pk_ev_kstrtoul(w, 0, &addr);
		def->addr = addr;
		return 0;
	case PK_EV_FORM_FILE:
		def->flags |= PK_EVF_USER | PK_EVF_FILE;
		return parse_file_offset(p, w);
	case PK_EV_FORM_FILE_SYMBOL:
		def->flags |= PK_EVF_FILE;
		colon = pk_obj_colon(w);
		def->object = (uint16_t)pk_ev_pool_add(def, w, (size_t)(colon - w));
		if (!def->object)
			return err_at(p, 1, 0, PK_EVERR_LINE_TOO_LONG);
		ret = parse_symbol(p, colon + 1, (int)(colon + 1 - w), offset);
		if (!ret)
			strcpy(symbol, pk_event_str(def, def->symbol));
		return ret;
	default:
		ret = parse_symbol(p, w, 0, offset);
		if (!ret) {
			/* OBJ:SYM, as written */
			if (def->object)
				snprintf(symbol, PK_EV_MAX_LINE, "%s:%s",
					 pk_event_str(def, def->object),
					 pk_event_str(def, def->symbol));
			else
				strcpy(symbol, pk_event_str(def, def->symbol));
		}
		return ret;
	}
}

/*
 * argv_has_var_arg(): unnamed "$arg..." arguments are looked at before any
 * argument is parsed, so their errors come first.
 */
static int check_var_args(struct parser *p)
{
	unsigned int flags = p->def->flags & (PK_EVF_USER | PK_EVF_FENTRY | PK_EVF_RETURN);
	int i, star = -1;

	for (i = 2; i < p->argc; i++) {
		const char *w = p->argv[i];

		if (strncmp(w, "$arg", 4))
			continue;
		p->log.word = (unsigned int)i;
		if (flags != PK_EVF_FENTRY && flags != PK_EVF_RETURN)
			return err_at(p, (unsigned int)i, 0, PK_EVERR_NOFENTRY_ARGS);
		if (pk_ev_isdigit(w[4]))
			continue;
		if (w[4] != '*')
			return err_at(p, (unsigned int)i, 0, PK_EVERR_BAD_VAR);
		if (star >= 0)
			return err_at(p, (unsigned int)i, 0, PK_EVERR_DOUBLE_ARGS);
		star = i;
	}
	/* $arg* names the function's parameters from BTF, which user space lacks. */
	if (star >= 0)
		return err_at(p, p->log.word, 0, PK_EVERR_NOSUP_BTFARG);
	return 0;
}

/* "-:[GROUP/]EVENT [NAME=ARG...]": the words after the name select among probes. */
static int parse_delete(struct parser *p)
{
	struct pk_event_def *def = p->def;
	const char *ev = p->argv[0] + 2, *slash;
	size_t n;
	int i;

	def->kind = '-';
	def->form = PK_EV_FORM_DELETE;
	if (p->argv[0][1] != ':')
		return err_at(p, 0, 1, PK_EVERR_BAD_DELETE);
	slash = strchr(ev, '/');
	if (!slash && !*ev)
		return err_at(p, 0, 2, PK_EVERR_NO_EVENT_NAME);
	if (slash) {
		n = (size_t)(slash - ev);
		if (n >= PK_EV_NAME_SIZE)
			return err_at(p, 0, 2, PK_EVERR_GROUP_TOO_LONG);
		memcpy(def->group, ev, n);
		def->group[n] = '\0';
		ev = slash + 1;
	}
	n = strlen(ev);
	if (n >= PK_EV_NAME_SIZE)
		return err_at(p, 0, (int)(ev - p->argv[0]), PK_EVERR_EVENT_TOO_LONG);
	memcpy(def->event, ev, n + 1);
	if (p->argc - 1 > PK_EV_MAX_ARGS)
		return err_at(p, 1, 0, PK_EVERR_TOO_MANY_ARGS);
	for (i = 1; i < p->argc; i++) {
		def->args[i - 1].comm =
		    (uint16_t)pk_ev_pool_add(def, p->argv[i], strlen(p->argv[i]));
		if (!def->args[i - 1].comm)
			return err_at(p, (unsigned int)i, 0, PK_EVERR_LINE_TOO_LONG);
	}
	def->nargs = (uint16_t)(p->argc - 1);
	return 0;
}

static enum pk_ev_form form_of(const char *w)
{
	unsigned long addr;
	const char *colon;

	if (!pk_ev_kstrtoul(w, 0, &addr))
		return PK_EV_FORM_ADDR;
	colon = pk_obj_colon(w);
	if (strchr(w, '/') && colon)
		return pk_ev_isdigit(colon[1]) ? PK_EV_FORM_FILE : PK_EV_FORM_FILE_SYMBOL;
	return PK_EV_FORM_SYMBOL;
}

static int parse_words(struct parser *p)
{
	struct pk_event_def *def = p->def;
	char symbol[PK_EV_MAX_LINE] = "";
	struct pk_ev_argctx ctx = {.def = def, .log = &p->log};
	const char *event;
	bool generate = false;
	long offset = 0;
	int i, ret;

	switch (p->argv[0][0]) {
	case 'p': break;
	case 'r': p->is_return = true; break;
	case '-': return parse_delete(p);
	default: return err_at(p, 0, 0, PK_EVERR_BAD_CMD);
	}
	if (p->argc < 2)
		return err_at(p, 1, 0, PK_EVERR_NO_PROBE_POINT);
	def->form = (uint8_t)form_of(p->argv[1]);
	if (def->form == PK_EV_FORM_FILE && p->argc - 2 > PK_EV_MAX_ARGS)
		return err_at(p, 2, 0, PK_EVERR_TOO_MANY_ARGS);

	event = strchr(p->argv[0] + 1, ':');
	if (event)
		event++;
	ret = parse_maxactive(p, event);
	if (ret)
		return ret;
	ret = parse_point(p, symbol, &offset);
	if (ret)
		return ret;
	def->kind = p->is_return ? 'r' : 'p';
	if (p->is_return)
		def->flags |= PK_EVF_RETURN;

	strcpy(def->group, PK_EV_DEFAULT_GROUP);
	if (event) {
		ret = parse_event_name(p, event, (int)(event - p->argv[0]), &generate);
		if (ret)
			return ret;
	}
	if (!event || generate)
		generate_name(p, symbol, offset);

	if (kprobe_like(def)) {
		ret = check_var_args(p);
		if (ret)
			return ret;
		if (p->argc - 2 > PK_EV_MAX_ARGS)
			return err_at(p, 2, 0, PK_EVERR_TOO_MANY_ARGS);
	}
	ctx.flags = def->flags;
	for (i = 2; i < p->argc; i++) {
		p->log.word = (unsigned int)i;
		ctx.offset = 0;
		ret = pk_ev_parse_arg(&ctx, (unsigned int)(i - 2), p->argv[i]);
		if (ret)
			return ret;
		def->nargs = (uint16_t)(i - 1);
	}
	def->dyn_offset = (uint16_t)(def->fixed_size + (def->nargs + 7) / 8);
	return 0;
}

int pk_event_parse(struct pk_event_def *def, const char *line, struct pk_event_error *err)
{
	char *argv[PK_EV_MAX_LINE / 2 + 1];
	char buf[PK_EV_MAX_LINE];
	struct parser p = {.def = def, .argv = argv};
	size_t n = pk_ev_strnlen(line, PK_EV_MAX_LINE);
	char *hash;
	int ret;

	memset(def, 0, sizeof(*def));
	def->magic = PK_EV_MAGIC;
	def->abi_size = sizeof(*def);
	def->pool_at = offsetof(struct pk_event_def, pool);
	def->pool_used = 1;
	if (err) {
		err->cause = PK_EVERR_NONE;
		err->pos = 0;
		err->subsystem = "trace_kprobe";
		err->command[0] = '\0';
	}
	p.log.err = err;

	if (n >= PK_EV_MAX_LINE)
		n = PK_EV_MAX_LINE - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	/* As trace_parse_run_command(): '#' starts a comment anywhere. */
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	p.argc = pk_ev_split(buf, argv, (int)(sizeof(argv) / sizeof(argv[0])));
	p.log.argv = (const char *const *)argv;
	p.log.argc = p.argc;
	p.log.subsystem = p.argc > 1 && strchr(argv[1], '/') && strchr(argv[1], ':')
			      ? "trace_uprobe"
			      : "trace_kprobe";
	if (pk_ev_strnlen(line, PK_EV_MAX_LINE) >= PK_EV_MAX_LINE)
		ret = err_at(&p, 0, 0, PK_EVERR_LINE_TOO_LONG);
	else if (!p.argc)
		return -ENODATA;
	else
		ret = parse_words(&p);
	if (ret)
		def->magic = 0;
	return ret;
}
