// SPDX-License-Identifier: MIT
/*
 * Errors as the kernel's tracefs error_log shows them: the command re-joined
 * from its words, and a caret under the column the parser was looking at.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "events/ev_int.h"

static const struct {
	const char *name;
	const char *msg;
	int err;
} errinfo[PK_EVERR_NR] = {[PK_EVERR_NONE] = {"NONE", "", 0},
#define PK_EV_INFO_(name, errno_, msg) [PK_EVERR_##name] = {#name, msg, errno_},
			  PK_EV_ERRORS(PK_EV_INFO_)
#undef PK_EV_INFO_
};

const char *pk_event_strerror(enum pk_ev_err cause)
{
	return (unsigned int)cause < PK_EVERR_NR ? errinfo[cause].msg : "";
}

const char *pk_event_errname(enum pk_ev_err cause)
{
	return (unsigned int)cause < PK_EVERR_NR ? errinfo[cause].name : "?";
}

/*
 * As __trace_probe_log_err(): the caret is at the start of word @log->word in
 * the re-joined command plus @offset; a word past the last one puts it one
 * column after the command's end (the kernel counts a space after each word).
 * Only the first error of a definition is kept, as the parser stops there.
 */
int pk_ev_log_err(struct pk_ev_log *log, int offset, enum pk_ev_err cause)
{
	struct pk_event_error *err = log->err;
	size_t len = 0, pos = 0, cl = 0, cap;
	const char *s;
	int i;

	if (err && err->cause == PK_EVERR_NONE) {
		cap = sizeof(err->command) - 1;
		for (i = 0; i < log->argc; i++) {
			if ((unsigned int)i == log->word)
				pos = len;
			for (s = log->argv[i]; *s; s++, len++)
				if (cl < cap)
					err->command[cl++] = *s;
			if (i + 1 < log->argc && cl < cap)
				err->command[cl++] = ' ';
			len++;
		}
		err->command[cl] = '\0';
		if (log->word >= (unsigned int)log->argc) {
			pos = len;
			offset = 0;
		}
		err->cause = cause;
		err->pos = (int)(pos + (size_t)offset);
		err->subsystem = log->subsystem;
	}
	return -errinfo[cause].err;
}

int pk_event_error_set(struct pk_event_error *err, const char *line, enum pk_ev_err cause,
		       unsigned int word, int offset)
{
	char buf[PK_EV_MAX_LINE];
	char *argv[PK_EV_MAX_LINE / 2 + 1];
	struct pk_ev_log log = {.err = err, .word = word};
	size_t n = pk_ev_strnlen(line, sizeof(buf) - 1);
	char *hash;

	if ((unsigned int)cause >= PK_EVERR_NR)
		cause = PK_EVERR_FAIL_REG_PROBE;
	memcpy(buf, line, n);
	buf[n] = '\0';
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	log.argc = pk_ev_split(buf, argv, (int)(sizeof(argv) / sizeof(argv[0])));
	log.argv = (const char *const *)argv;
	log.subsystem = log.argc > 1 && strchr(argv[1], '/') && strchr(argv[1], ':')
			    ? "trace_uprobe"
			    : "trace_kprobe";
	if (err)
		err->cause = PK_EVERR_NONE;
	return pk_ev_log_err(&log, offset < 0 ? 0 : offset, cause);
}

enum pk_ev_err pk_event_register_cause(int error)
{
	switch (error) {
	case 0:
	case -ENOMEM:
	case -EEXIST: return PK_EVERR_NONE;
	case -EILSEQ: return PK_EVERR_BAD_INSN_BNDRY;
	case -ENOENT: return PK_EVERR_BAD_PROBE_ADDR;
	default: return PK_EVERR_FAIL_REG_PROBE;
	}
}

int pk_event_error_print(const struct pk_event_error *err, char *buf, size_t size)
{
	static const char prefix[] = "  Command: ";
	size_t len = 0, i, spaces;
	int n;

	n = snprintf(buf, size, "%s: error: %s\n%s%s\n",
		     err->subsystem ? err->subsystem : "probekit", pk_event_strerror(err->cause),
		     prefix, err->command);
	if (n < 0)
		return n;
	len = (size_t)n;
	/* The caret line: the prefix's width in spaces, then the column. */
	spaces = sizeof(prefix) - 1 + (err->pos > 0 ? (size_t)err->pos : 0);
	for (i = 0; i < spaces; i++, len++)
		if (len + 1 < size)
			buf[len] = ' ';
	if (len + 1 < size)
		buf[len] = '^';
	len++;
	if (len + 1 < size)
		buf[len] = '\n';
	len++;
	if (size)
		buf[len < size ? len : size - 1] = '\0';
	return (int)len;
}
