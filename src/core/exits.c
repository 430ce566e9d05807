// SPDX-License-Identifier: MIT
/*
 * Return probes without a return-address swap: the places where a function
 * leaves, so that a probe on each of them sees every return (and the return
 * address still on the stack). Go copies goroutine stacks and checks every
 * return address it finds there; CET shadow stacks refuse a changed one.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "sym/sym.h"

/* Functions are read whole; anything larger is not a function we can walk. */
#define MAX_FUNC_SIZE (4u << 20)

int pk_func_exits(const char *spec, uintptr_t addr, uintptr_t *start, uintptr_t **out)
{
	struct pk_sym_info si;
	size_t *offs = NULL;
	uint8_t *code;
	int n, i, err;

	*out = NULL;
	err = spec ? pk_sym_lookup(spec, &si) : pk_sym_find(addr, &si);
	if (err)
		return err;
	if (!spec && si.start != addr)
		return -EINVAL; /* not a function's first instruction */
	if (!si.size || si.size > MAX_FUNC_SIZE)
		return -EINVAL;
	code = malloc(si.size);
	if (!code)
		return -ENOMEM;
	pthread_mutex_lock(&pk_lock);
	err = pk_read_orig(si.start, code, si.size);
	pthread_mutex_unlock(&pk_lock);
	n = err ? err : arch_func_exits(code, si.size, si.start, NULL, 0);
	if (n > 0) {
		offs = malloc((size_t)n * sizeof(*offs));
		*out = malloc((size_t)n * sizeof(**out));
		if (offs && *out) {
			n = arch_func_exits(code, si.size, si.start, offs, (size_t)n);
			for (i = 0; i < n; i++)
				(*out)[i] = si.start + offs[i];
		} else {
			n = -ENOMEM;
		}
	}
	free(offs);
	free(code);
	if (n <= 0) {
		free(*out);
		*out = NULL;
	}
	*start = si.start;
	return n;
}
