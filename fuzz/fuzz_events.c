// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the kprobe_events language (src/events).
 *
 * The input is one definition line. A line that fails must fail with a
 * cause and a caret inside the command; a line that parses must validate,
 * and its programs run against fake registers whose values point into a
 * fake address space (a small arena of pointers and strings), with the
 * record and every output buffer allocated at their exact size so that
 * AddressSanitizer sees any write past them. Then the compiled definition
 * is damaged a little and, if the validator lets it through, run again:
 * the validator is what stands between a forged program and the traced
 * process.
 *
 * pk_read_nofault() is replaced here: reads succeed only inside the arena,
 * the definition (string constants) and the thread name, so the
 * interpreter cannot read anything else without it showing as a fault.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"

static uint8_t arena[4096] __attribute__((aligned(64)));
static struct pk_event_def def, damaged;
static char comm[PK_EV_COMM_LEN] = "fuzzer";
static const void *extra_lo, *extra_hi;

static int inside(const void *lo, size_t len, const void *src, size_t n)
{
	uintptr_t a = (uintptr_t)src, b = (uintptr_t)lo;

	return a >= b && n <= len && a - b <= len - n;
}

int pk_read_nofault(void *dst, const void *src, size_t n)
{
	if (!n)
		return 0;
	if (inside(arena, sizeof(arena), src, n) || inside(comm, sizeof(comm), src, n) ||
	    inside(extra_lo, (size_t)((const char *)extra_hi - (const char *)extra_lo), src, n)) {
		memcpy(dst, src, n);
		return 0;
	}
	return -EFAULT;
}

static void setup_arena(void)
{
	static const char *const words[] = {"hello", "world", "", "a\"b\\c\n\xff\xc3\xa9", "zz"};
	size_t i;
	uintptr_t base = (uintptr_t)arena;

	/* Pointers into the arena at every 8 bytes of the first half, strings in the second. */
	for (i = 0; i < 256; i++) {
		uintptr_t p = base + ((i * 136) % 4000);

		memcpy(arena + i * 8, &p, sizeof(p));
	}
	for (i = 2048; i + 16 < sizeof(arena); i += 16)
		memcpy(arena + i, words[(i / 16) % 5], strlen(words[(i / 16) % 5]) + 1);
	/* A string that runs to the arena's end, unterminated. */
	memset(arena + sizeof(arena) - 40, 'X', 40);
}

static int symbolize(void *ctx, char *buf, size_t size, unsigned long addr)
{
	(void)ctx;
	if ((addr & 7) == 3)
		return -1;
	return snprintf(buf, size, "sym%lx+0x%lx/0x40", addr >> 8, addr & 0x3f);
}

static int lookup(void *ctx, const char *name, unsigned long *addr)
{
	(void)ctx;
	if (name[0] == 'n')
		return -ENOENT;
	*addr = (uintptr_t)arena + (strlen(name) * 24) % 2048;
	return 0;
}

static void fill_regs(struct pk_regs *r, uint32_t h)
{
	unsigned long *w = (unsigned long *)r;
	size_t i;

	for (i = 0; i < PK_EV_NREGS; i++) {
		switch ((h >> (i % 16)) & 3) {
		case 0: w[i] = (uintptr_t)arena + ((h + i * 40) % 4096); break;
		case 1: w[i] = i * 0x101; break;
		case 2: w[i] = (unsigned long)-(long)i; break;
		default: w[i] = 0; break;
		}
	}
	/* The stack inside the arena, near its end sometimes, so that $stackN runs off it. */
	r->sp = (uintptr_t)arena + (h % 2 ? 64 : 4096 - 24);
}

/* Run, print and check a definition the validator accepted. */
static void exercise(const struct pk_event_def *d, uint32_t h)
{
	unsigned long edata[PK_EV_MAX_ARGS];
	struct pk_event_env env = {.comm = (h & 16) ? comm : NULL,
				   .entry_data = edata,
				   .entry_size = (h & 32) ? sizeof(edata) : 8,
				   .file_base = (h & 64) ? (uintptr_t)arena : 0,
				   .symbolize = (h & 128) ? symbolize : NULL};
	struct pk_event_fmt fmt = {.symbolize = (h & 256) ? symbolize : NULL,
				   .flags = (h & 512) ? PK_EVFMT_FAULTS : 0};
	struct pk_regs regs;
	size_t cap, osize, i;
	uint8_t *rec;
	char *out;
	int n, m;

	if (d->kind == '-')
		return;
	fill_regs(&regs, h);
	extra_lo = d;
	extra_hi = d + 1;
	memset(edata, 0, sizeof(edata));
	if (pk_event_fetch_entry(d, &regs, edata, sizeof(edata)))
		__builtin_trap();
	cap = d->dyn_offset + (h >> 10) % 700;
	rec = malloc(cap ? cap : 1);
	n = pk_event_fetch(d, &regs, !!(d->flags & PK_EVF_RETURN), rec, cap, &env);
	if (n < 0 || (size_t)n > cap || n < d->dyn_offset)
		__builtin_trap();
	osize = (h >> 4) % 300;
	out = malloc(osize ? osize : 1);
	m = pk_event_format(d, rec, (size_t)n, osize ? out : NULL, osize, &fmt);
	if (m < 0 || (osize && strnlen(out, osize) >= osize))
		__builtin_trap();
	m = pk_event_format_json(d, rec, (size_t)n, osize ? out : NULL, osize, &fmt);
	if (m < 0)
		__builtin_trap();
	/* The formatters must survive any bytes in the record too. */
	for (i = 0; i < (size_t)n; i++)
		rec[i] ^= (uint8_t)(h >> (i % 24));
	pk_event_format(d, rec, (size_t)n, osize ? out : NULL, osize, &fmt);
	pk_event_format_json(d, rec, (size_t)n, osize ? out : NULL, osize, &fmt);
	free(out);
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char line[PK_EV_MAX_LINE + 64];
	struct pk_event_resolver res = {lookup, NULL};
	struct pk_event_error err, again;
	char report[PK_EV_MAX_LINE * 3];
	uint32_t h = 2166136261u;
	size_t i, n;
	int ret;

	if (!arena[0])
		setup_arena();
	n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;

	ret = pk_event_parse(&def, line, &err);
	if (ret == -ENODATA)
		return 0;
	if (ret) {
		/*
		 * Every failure has a cause and a caret. The caret can be past the
		 * command's end, as the kernel's: after a dereference the type's
		 * column is counted from inside the brace, which adds up to one
		 * argument's length.
		 */
		if (err.cause <= PK_EVERR_NONE || err.cause >= PK_EVERR_NR || err.pos < 0 ||
		    (size_t)err.pos > strlen(err.command) + 2 + 2 * PK_EV_MAX_ARGSTR ||
		    pk_event_error_set(&again, line, err.cause, 0, 0) != ret)
			__builtin_trap();
		pk_event_error_print(&err, report, (h % sizeof(report)) + 1);
		return 0;
	}
	if (err.cause != PK_EVERR_NONE || pk_event_validate(&def, sizeof(def)))
		__builtin_trap();
	pk_event_resolve(&def, &res);
	if (pk_event_validate(&def, sizeof(def)))
		__builtin_trap();
	exercise(&def, h);

	/* Damage a few bytes of the compiled definition; what still validates must run safely. */
	memcpy(&damaged, &def, sizeof(def));
	for (i = 0; i < 1 + h % 3; i++) {
		uint32_t k = h * (uint32_t)(2 * i + 1) + (uint32_t)i;
		size_t at = k % (offsetof(struct pk_event_def, args) +
				 (def.nargs + 1) * sizeof(struct pk_event_arg));

		((uint8_t *)&damaged)[at] ^= (uint8_t)(1u << ((k >> 24) & 7));
	}
	if (!pk_event_validate(&damaged, sizeof(damaged)))
		exercise(&damaged, h ^ 0x5a5a5a5a);
	return 0;
}
